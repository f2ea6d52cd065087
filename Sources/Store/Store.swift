/// Store: where the scheduler's cluster state lives. `StateStore` is shaped like etcd's KV API (keys
/// with revisions, multi-key compare-and-swap transactions, watch from a revision) so that an etcd
/// backend can implement it; `SQLiteStore` is the embedded default. Usage history, which is not cluster
/// state, lives in `UsageHistory`. Imports nothing of the scheduler.
