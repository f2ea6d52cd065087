/// CorralClient: the typed HTTP client of the scheduler's API (AsyncHTTPClient), used by the CLI, the
/// agent, the demo and the benchmarks. Speaks CorralProtocol's types; never imports the scheduler, its
/// routes, its store or Hummingbird, so that the node daemon links none of them.
import CorralProtocol
