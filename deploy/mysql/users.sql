-- Accounts for the compose stack; runs after the inventory schema (init files run in name order).

-- Debezium MySQL connector: the grants its documentation lists for snapshots and binlog reading.
CREATE USER IF NOT EXISTS 'ferry_cdc'@'%' IDENTIFIED BY 'ferry_cdc';
GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'ferry_cdc'@'%';
-- Incremental snapshots write their window markers into the signal table.
GRANT INSERT, UPDATE, DELETE ON inventory.debezium_signal TO 'ferry_cdc'@'%';

-- Application account for demos and `ferry verify`.
CREATE USER IF NOT EXISTS 'ferry'@'%' IDENTIFIED BY 'ferry';
GRANT ALL PRIVILEGES ON inventory.* TO 'ferry'@'%';
-- verify --repair stamps repairs with the binlog position.
GRANT REPLICATION CLIENT ON *.* TO 'ferry'@'%';

FLUSH PRIVILEGES;
