"use client";

// Groups: the dialog creating one, and the details panel of an open group (its picture,
// rename, describe, add and remove members, hand over admin, leave, delete).

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";

import { buttonStyles, Confirm, Modal, ModalClose } from "@/components/Dialog";
import { Notice, useNotice } from "@/components/Notice";
import { PictureUpload } from "@/components/PictureUpload";
import { Avatar } from "@/components/ui";
import { describe } from "@/lib/api/client";
import * as files from "@/lib/api/files";
import * as messages from "@/lib/api/messages";
import type { ConversationView, UserSince } from "@/lib/api/types";
import { queries } from "@/lib/queries";

/** Friends to pick from (for a new group or new members). */
function useFriends(): UserSince[] {
  return useQuery(queries.friends()).data?.users ?? [];
}

function Picker({ friends, chosen, onToggle }: { friends: UserSince[]; chosen: Set<string>; onToggle: (uuid: string) => void }) {
  if (friends.length === 0) return <p className="text-sm text-slate-500">No friends to add yet.</p>;
  return (
    <ul className="max-h-48 space-y-1 overflow-y-auto">
      {friends.map(({ user }) => (
        <li key={user.uuid}>
          <label className="flex cursor-pointer items-center gap-2 rounded-lg px-2 py-1 hover:bg-slate-50">
            <input type="checkbox" checked={chosen.has(user.uuid)} onChange={() => onToggle(user.uuid)} className="h-4 w-4 accent-indigo-600" />
            <Avatar name={user.username} src={user.profile_picture} size="h-7 w-7" />
            <span className="text-sm">{user.username}</span>
          </label>
        </li>
      ))}
    </ul>
  );
}

function toggle(set: Set<string>, uuid: string): Set<string> {
  const next = new Set(set);
  if (next.has(uuid)) next.delete(uuid);
  else next.add(uuid);
  return next;
}

/** A dialog creating a group of friends. */
export function NewGroupDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (id: string) => void }) {
  const friends = useFriends();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [error, setError] = useState<string | null>(null);

  async function create(event: React.FormEvent) {
    event.preventDefault();
    try {
      const group = await messages.createGroup({ name, description: description || undefined, member_uuids: [...chosen] });
      onCreated(group.id);
    } catch (caught) {
      setError(describe(caught));
    }
  }

  return (
    <Modal title="New group" onClose={onClose}>
      <form onSubmit={create} className="space-y-3">
        <label className="block text-sm font-medium">
          Name
          <input autoFocus required value={name} onChange={(e) => setName(e.target.value)} className="mt-1 block w-full rounded-lg border border-slate-300 px-3 py-2 text-sm" />
        </label>
        <label className="block text-sm font-medium">
          Description (optional)
          <input value={description} onChange={(e) => setDescription(e.target.value)} className="mt-1 block w-full rounded-lg border border-slate-300 px-3 py-2 text-sm" />
        </label>
        <fieldset>
          <legend className="mb-1 text-sm font-medium">Members</legend>
          <Picker friends={friends} chosen={chosen} onToggle={(uuid) => setChosen(toggle(chosen, uuid))} />
        </fieldset>
        {error && <p role="alert" className="rounded-lg bg-rose-50 px-3 py-2 text-sm text-rose-700">{error}</p>}
        <div className="flex justify-end gap-2">
          <ModalClose />
          <button className={buttonStyles.primary}>Create group</button>
        </div>
      </form>
    </Modal>
  );
}

/** Details and administration of a group: rename, describe, add, remove, hand over, leave, delete. */
export function GroupPanel({ group, me, onClose, onLeft }: { group: ConversationView; me: string; onClose: () => void; onLeft: () => void }) {
  const friends = useFriends();
  const [deleting, setDeleting] = useState(false);
  const [name, setName] = useState(group.name ?? "");
  const [description, setDescription] = useState(group.description ?? "");
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const { notice, act } = useNotice();
  const admin = group.admin === me;
  const addable = friends.filter(({ user }) => !group.participant_uuids.includes(user.uuid));

  return (
    <aside aria-label="Group details" className="flex w-full flex-col overflow-y-auto border-l border-slate-200 bg-white p-4 md:w-80">
      <div className="mb-3 flex items-center justify-between">
        <h2 className="font-semibold">Group details</h2>
        <button onClick={onClose} aria-label="Close group details" className="rounded-lg px-2 py-1 text-slate-500 hover:bg-slate-100">✕</button>
      </div>
      <Notice notice={notice} className="mb-3" />
      {admin ? (
        <div className="mb-3">
          <PictureUpload
            name={group.name ?? "Group"}
            src={group.picture}
            label="Upload group picture"
            onUpload={(file, onProgress) => files.setGroupPicture(group.id, file, onProgress)}
            onRemove={() => files.removeGroupPicture(group.id)}
          />
        </div>
      ) : (
        <div className="mb-3 flex justify-center">
          <Avatar name={group.name ?? "Group"} src={group.picture} size="h-20 w-20" />
        </div>
      )}
      {admin ? (
        <form
          className="space-y-2"
          onSubmit={(event) => {
            event.preventDefault();
            act(() => messages.updateGroup(group.id, { name, description: description || null }), "Group updated.");
          }}
        >
          <label className="block text-sm font-medium">Name<input value={name} onChange={(e) => setName(e.target.value)} className="mt-1 block w-full rounded-lg border border-slate-300 px-3 py-2 text-sm" /></label>
          <label className="block text-sm font-medium">Description<input value={description} onChange={(e) => setDescription(e.target.value)} className="mt-1 block w-full rounded-lg border border-slate-300 px-3 py-2 text-sm" /></label>
          <button className="rounded-lg bg-indigo-600 px-3 py-1.5 text-sm font-semibold text-white hover:bg-indigo-500">Save</button>
        </form>
      ) : (
        <div>
          <p className="font-medium">{group.name}</p>
          {group.description && <p className="text-sm text-slate-500">{group.description}</p>}
        </div>
      )}
      <h3 className="mb-1 mt-4 text-sm font-semibold">Members ({group.participants.length})</h3>
      <ul className="space-y-1">
        {group.participants.map((user) => (
          <li key={user.uuid} className="flex items-center gap-2 text-sm">
            <Avatar name={user.username} src={user.profile_picture} size="h-7 w-7" />
            <span className="flex-1">
              {user.username}
              {user.uuid === group.admin && <span className="ml-1 text-xs text-indigo-600">admin</span>}
            </span>
            {admin && user.uuid !== me && (
              <>
                <button className="text-xs text-slate-500 hover:text-slate-800" onClick={() => act(() => messages.transferAdmin(group.id, user.uuid), `${user.username} is now admin.`)}>
                  Make admin
                </button>
                <button className="text-xs text-rose-600 hover:text-rose-800" onClick={() => act(() => messages.removeMember(group.id, user.uuid), `Removed ${user.username}.`)}>
                  Remove
                </button>
              </>
            )}
          </li>
        ))}
      </ul>
      {admin && addable.length > 0 && (
        <div className="mt-4">
          <h3 className="mb-1 text-sm font-semibold">Add friends</h3>
          <Picker friends={addable} chosen={chosen} onToggle={(uuid) => setChosen(toggle(chosen, uuid))} />
          <button
            disabled={chosen.size === 0}
            onClick={() => act(() => messages.addMembers(group.id, [...chosen]), "Members added.").then(() => setChosen(new Set()))}
            className="mt-2 rounded-lg bg-indigo-600 px-3 py-1.5 text-sm font-semibold text-white hover:bg-indigo-500 disabled:opacity-50"
          >
            Add
          </button>
        </div>
      )}
      <div className="mt-6 flex flex-wrap gap-2">
        <button
          className="rounded-lg border border-slate-300 px-3 py-1.5 text-sm font-medium hover:bg-slate-50"
          onClick={() => act(() => messages.removeMember(group.id, me), "You left the group.").then(onLeft)}
        >
          Leave group
        </button>
        {admin && (
          <button
            className="rounded-lg bg-rose-600 px-3 py-1.5 text-sm font-semibold text-white hover:bg-rose-500"
            onClick={() => setDeleting(true)}
          >
            Delete group
          </button>
        )}
      </div>
      <Confirm
        open={deleting}
        onClose={() => setDeleting(false)}
        title="Delete this group and its messages for everyone?"
        action="Delete group"
        onConfirm={() => act(() => messages.deleteGroup(group.id), "Group deleted.").then(onLeft)}
      />
    </aside>
  );
}
