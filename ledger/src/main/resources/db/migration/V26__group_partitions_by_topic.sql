-- A publish asks who holds the partitions it wrote, in every group (to skip a NOTIFY when only this process
-- does). The primary key leads with the group, so that question read the whole table; this index answers it
-- by (topic, partition). Neither column ever changes, so the frequent committed_seq updates stay HOT.
CREATE INDEX mq_group_partitions_topic ON mq_group_partitions (topic, partition_no);
