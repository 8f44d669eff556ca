-- Accounts for the compose stack (MySQL 8.4); runs after the inventory schema (init files run in name order).

-- Debezium MySQL connector: the grants its documentation lists for snapshots and binlog reading.
-- MySQL 8.4 keeps the privileges' names (REPLICATION SLAVE, REPLICATION CLIENT).
CREATE USER IF NOT EXISTS 'ferry_cdc'@'%' IDENTIFIED WITH caching_sha2_password BY 'ferry_cdc';
GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'ferry_cdc'@'%';
-- Incremental snapshots write their window markers into the signal table.
GRANT INSERT, UPDATE, DELETE ON inventory.debezium_signal TO 'ferry_cdc'@'%';

-- Application account for demos and `ferry verify`.
CREATE USER IF NOT EXISTS 'ferry'@'%' IDENTIFIED WITH caching_sha2_password BY 'ferry';
GRANT ALL PRIVILEGES ON inventory.* TO 'ferry'@'%';
-- verify --repair stamps repairs with the binlog position (SHOW BINARY LOG STATUS on 8.4).
GRANT REPLICATION CLIENT ON *.* TO 'ferry'@'%';

FLUSH PRIVILEGES;
