-- The services create and migrate their own schemas (chat_users, chat_friends) at start-up;
-- the application user may manage exactly those.
GRANT ALL PRIVILEGES ON `chat\_users`.* TO 'chat'@'%';
GRANT ALL PRIVILEGES ON `chat\_friends`.* TO 'chat'@'%';
FLUSH PRIVILEGES;
