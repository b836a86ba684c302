-- 0002_node_status.sql - the latest NodeStatus of every relay, from its
-- heartbeats, so that the network view (Query.network_status) survives a
-- restart of the county server.

CREATE TABLE node_status (
    node        text PRIMARY KEY,                 -- "relay:410423101000"
    org_unit    char(12) NOT NULL,
    status      bytea NOT NULL,                   -- serialized proto NodeStatus
    reported_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX node_status_org_unit ON node_status (org_unit);
