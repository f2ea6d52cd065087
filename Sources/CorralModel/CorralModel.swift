/// CorralModel: the domain values every other target shares: units and sizes, job specs with their
/// path-named validation, resources and resource vectors, node load, task states and outcomes, quotas.
/// It does no I/O and imports nothing but the standard library. Types that travel between processes
/// as messages are in CorralProtocol.
