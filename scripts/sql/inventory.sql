-- Sample source database for ferry (MariaDB 10.11 / MySQL 8).
-- Loaded once by scripts/stack.sh when the `inventory` database does not exist.
SET NAMES utf8mb4;

CREATE DATABASE IF NOT EXISTS inventory CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
USE inventory;

CREATE TABLE customers (
  id          INT NOT NULL AUTO_INCREMENT,
  first_name  VARCHAR(100) NOT NULL,
  last_name   VARCHAR(100) NOT NULL,
  email       VARCHAR(255) NOT NULL,
  status      ENUM('active','suspended') NOT NULL DEFAULT 'active',
  created_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_customers_email (email)
) ENGINE=InnoDB AUTO_INCREMENT=1001;

CREATE TABLE products (
  id          INT NOT NULL AUTO_INCREMENT,
  name        VARCHAR(255) NOT NULL,
  description TEXT,
  price       DECIMAL(12,2) NOT NULL,
  weight      DOUBLE,
  tags        SET('new','sale','fragile','bulky','gift') NOT NULL DEFAULT '',
  PRIMARY KEY (id)
) ENGINE=InnoDB AUTO_INCREMENT=101;

CREATE TABLE orders (
  order_number INT NOT NULL AUTO_INCREMENT,
  order_date   DATE NOT NULL,
  purchaser    INT NOT NULL,
  product_id   INT NOT NULL,
  quantity     INT NOT NULL,
  total        DECIMAL(14,2) NOT NULL,
  PRIMARY KEY (order_number),
  KEY ix_orders_purchaser (purchaser),
  KEY ix_orders_product (product_id),
  CONSTRAINT fk_orders_customer FOREIGN KEY (purchaser) REFERENCES customers (id),
  CONSTRAINT fk_orders_product FOREIGN KEY (product_id) REFERENCES products (id)
) ENGINE=InnoDB AUTO_INCREMENT=10001;

-- Debezium source signalling channel (incremental / ad hoc snapshots).
CREATE TABLE debezium_signal (
  id   VARCHAR(42) NOT NULL PRIMARY KEY,
  type VARCHAR(32) NOT NULL,
  data TEXT
) ENGINE=InnoDB;

INSERT INTO customers (first_name, last_name, email, status, created_at) VALUES
  ('Sally',   'Thomas',   'sally.thomas@acme.com',  'active',    '2024-01-05 09:12:30.123456'),
  ('George',  'Bailey',   'gbailey@foobar.com',     'active',    '2024-01-06 10:00:00.000000'),
  ('Edward',  'Walker',   'ed@walker.com',          'active',    '2024-01-07 11:45:12.500000'),
  ('Anne',    'Kretchmar','annek@noanswer.org',     'suspended', '2024-01-08 08:30:00.000001'),
  ('Zoë',     'Lefèvre',  'zoe.lefevre@example.fr', 'active',    '2024-02-14 14:14:14.141414'),
  ('Hélène',  'Dupré 🚀', 'helene@example.fr',      'active',    '2024-02-15 16:00:00.000000'),
  ('Jürgen',  'Müller',   'jm@example.de',          'active',    '2024-03-01 07:05:00.250000'),
  ('Sakura',  '山田',      'sakura@example.jp',      'active',    '2024-03-02 12:00:00.000000'),
  ('Olu',     'Adé',      'olu@example.ng',         'suspended', '2024-03-03 18:30:45.999999'),
  ('Maria',   'García',   'maria@example.es',       'active',    '2024-03-04 21:10:00.000000');

INSERT INTO products (name, description, price, weight, tags) VALUES
  ('scooter',            'Small 2-wheel scooter',                                  3.14,    3.14,  'new'),
  ('car battery',        '12V car battery',                                        8.10,    8.1,   'bulky'),
  ('12-pack drill bits', '12-pack of drill bits with sizes ranging from #40 to #3', 8.80,    0.8,   ''),
  ('hammer',             '12oz carpenter''s hammer',                               24.99,   0.75,  'sale'),
  ('hammer XL',          '14oz carpenter''s hammer',                               29.99,   0.875, 'sale,new'),
  ('hammer XXL',         '16oz carpenter''s hammer',                               34.50,   1.0,   ''),
  ('rocks',              'box of assorted rocks',                                  5.00,    5.3,   'bulky,fragile'),
  ('jacket',             'water resistent black wind breaker — café edition ☕',    129.00,  0.1,   'gift'),
  ('spare tire',         '24 inch spare tire',                                     79.95,   22.2,  'bulky'),
  ('gift card',          NULL,                                                     9999999999.99, NULL, 'gift');

INSERT INTO orders (order_date, purchaser, product_id, quantity, total) VALUES
  ('2024-01-16', 1001, 102, 1,  8.10),
  ('2024-01-17', 1002, 105, 2,  59.98),
  ('2024-02-19', 1002, 106, 2,  69.00),
  ('2024-02-21', 1003, 107, 1,  5.00),
  ('2024-02-22', 1005, 108, 1,  129.00),
  ('2024-03-01', 1006, 101, 3,  9.42),
  ('2024-03-02', 1007, 104, 4,  99.96),
  ('2024-03-03', 1008, 109, 1,  79.95),
  ('2024-03-04', 1010, 103, 10, 88.00),
  ('2024-03-05', 1001, 110, 1,  9999999999.99);
