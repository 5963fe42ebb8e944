//! Uuids as MongoDB stores them here: hyphenated strings (as the seed's documents had them).
//! Reading one that is not a uuid is an error, never a silent nil uuid.

use bson::Bson;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serializer};
use uuid::Uuid;

/// A uuid as a value in a filter or update.
pub fn bson(id: Uuid) -> Bson {
    Bson::String(id.hyphenated().to_string())
}

/// Uuids as an array value in a filter or update.
pub fn bson_list(ids: &[Uuid]) -> Bson {
    Bson::Array(ids.iter().copied().map(bson).collect())
}

fn parse<'de, D: Deserializer<'de>>(text: &str) -> Result<Uuid, D::Error> {
    Uuid::parse_str(text).map_err(|_| D::Error::custom(format!("stored uuid {text:?} is invalid")))
}

/// `#[serde(with = "uuids::one")]`.
pub mod one {
    use super::*;

    pub fn serialize<S: Serializer>(id: &Uuid, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&id.hyphenated())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Uuid, D::Error> {
        parse::<D>(&String::deserialize(deserializer)?)
    }
}

/// `#[serde(with = "uuids::option")]` (with `default`).
pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(id: &Option<Uuid>, serializer: S) -> Result<S::Ok, S::Error> {
        match id {
            Some(id) => serializer.collect_str(&id.hyphenated()),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Uuid>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| parse::<D>(&text))
            .transpose()
    }
}

/// `#[serde(with = "uuids::list")]`.
pub mod list {
    use serde::ser::SerializeSeq as _;

    use super::*;

    pub fn serialize<S: Serializer>(ids: &[Uuid], serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(ids.len()))?;
        for id in ids {
            seq.serialize_element(&id.hyphenated().to_string())?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Uuid>, D::Error> {
        Vec::<String>::deserialize(deserializer)?
            .iter()
            .map(|text| parse::<D>(text))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Doc {
        #[serde(with = "one")]
        one: Uuid,
        #[serde(default, with = "option")]
        maybe: Option<Uuid>,
        #[serde(with = "list")]
        many: Vec<Uuid>,
    }

    #[test]
    fn uuids_are_stored_as_strings_and_read_back() {
        let doc = Doc {
            one: Uuid::new_v4(),
            maybe: Some(Uuid::new_v4()),
            many: vec![Uuid::new_v4(), Uuid::new_v4()],
        };
        let stored = bson::to_document(&doc).unwrap();
        assert_eq!(stored.get_str("one").unwrap(), doc.one.to_string());
        assert_eq!(bson::from_document::<Doc>(stored).unwrap(), doc);
    }

    #[test]
    fn a_bad_stored_uuid_is_an_error_not_nil() {
        let stored = bson::doc! { "one": "not-a-uuid", "many": [] };
        let error = bson::from_document::<Doc>(stored).unwrap_err();
        assert!(error.to_string().contains("not-a-uuid"), "{error}");
        let stored = bson::doc! { "one": Uuid::nil().to_string(), "many": ["x"] };
        assert!(bson::from_document::<Doc>(stored).is_err());
    }
}
