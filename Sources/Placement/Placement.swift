/// Placement: the pure placement engine. A `ClusterView` holds every node's capacity, reservations,
/// connection counts, weight, labels, readiness and forecast load; `place` picks the node of lowest cost
/// (DESIGN.md, "The scheduling path") among those that can take a task. No I/O, no clocks, no locks:
/// the scheduler owns the view and feeds it events. Imports CorralModel only.
import CorralModel
