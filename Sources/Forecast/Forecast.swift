/// Forecast: native seasonal ARIMA — exact Gaussian likelihood by a Kalman filter over the state-space
/// form, CSS start values, BFGS, forecasts with prediction intervals. Pure computation: no I/O, and it
/// imports nothing but swift-numerics' RealModule (elementary functions). The algorithms
/// follow R's `stats::arima` as described in shared/reference/arima.md; the code is our own.
