/// Reports: capacity-planning and quota reports from a cluster snapshot and the usage history: grid
/// series, forecasts with intervals, saturation dates, headroom for task shapes, stranded capacity,
/// right-sizing and tenants' quota use; rendered as JSON (docs/capacity-report.schema.json), Markdown
/// and HTML with inline SVG charts. Reads the store and history; never imports the scheduler.
