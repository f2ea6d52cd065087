/// SchedulerService: the scheduler as a network service. Hummingbird routes (`SchedulerAPI`), bearer
/// tokens resolved by `AuthenticationMiddleware` into the caller the routes check, JSON errors with
/// stable codes, the OpenAPI document, Prometheus metrics, the configuration file (`SchedulerConfig`)
/// and the composition root (`SchedulerServer`: store, history, scheduler, HTTP server, lifecycle).
/// Knows nothing of command-line parsing.
