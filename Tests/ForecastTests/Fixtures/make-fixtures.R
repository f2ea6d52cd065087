#!/usr/bin/env Rscript
# Regenerates the ARIMA parity fixtures from R's forecast package (Debian: apt-get install r-cran-forecast):
#   Rscript Tests/ForecastTests/Fixtures/make-fixtures.R Tests/ForecastTests/Fixtures
# Writes <series>.csv (one column "value") for each real series of R's datasets package, and
# fixed-order.json: for each model, R's coefficients (R's order) and their standard errors, log-likelihood, AICc, sigma2 (as
# forecast::Arima reports it) and the 12-step forecast with 80% and 95% intervals.
suppressPackageStartupMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) > 0) args[1] else "."

series <- list(
  lh = as.numeric(lh), LakeHuron = as.numeric(LakeHuron), Nile = as.numeric(Nile),
  WWWusage = as.numeric(WWWusage), USAccDeaths = as.numeric(USAccDeaths),
  AirPassengersLog = log(as.numeric(AirPassengers)), AirPassengers120 = as.numeric(AirPassengers)[1:120]
)
periods <- c(lh = 1, LakeHuron = 1, Nile = 1, WWWusage = 1, USAccDeaths = 12, AirPassengersLog = 12,
             AirPassengers120 = 1)
for (name in names(series)) {
  write.csv(data.frame(value = series[[name]]), file.path(out, paste0(name, ".csv")), row.names = FALSE)
}

# name, series, order, seasonal order, constant
models <- list(
  list("lh-100-mean", "lh", c(1, 0, 0), c(0, 0, 0), "mean"),
  list("lh-300-mean", "lh", c(3, 0, 0), c(0, 0, 0), "mean"),
  list("lh-101-mean", "lh", c(1, 0, 1), c(0, 0, 0), "mean"),
  list("LakeHuron-200-mean", "LakeHuron", c(2, 0, 0), c(0, 0, 0), "mean"),
  list("LakeHuron-111", "LakeHuron", c(1, 1, 1), c(0, 0, 0), "none"),
  list("LakeHuron-110-drift", "LakeHuron", c(1, 1, 0), c(0, 0, 0), "drift"),
  list("Nile-111", "Nile", c(1, 1, 1), c(0, 0, 0), "none"),
  list("Nile-011", "Nile", c(0, 1, 1), c(0, 0, 0), "none"),
  list("WWWusage-111", "WWWusage", c(1, 1, 1), c(0, 0, 0), "none"),
  list("WWWusage-310", "WWWusage", c(3, 1, 0), c(0, 0, 0), "none"),
  list("WWWusage-212", "WWWusage", c(2, 1, 2), c(0, 0, 0), "none"),
  list("USAccDeaths-011-011", "USAccDeaths", c(0, 1, 1), c(0, 1, 1), "none"),
  list("AirPassengersLog-011-011", "AirPassengersLog", c(0, 1, 1), c(0, 1, 1), "none"),
  list("AirPassengersLog-210-011", "AirPassengersLog", c(2, 1, 0), c(0, 1, 1), "none"),
  list("AirPassengers120-212", "AirPassengers120", c(2, 1, 2), c(0, 0, 0), "none")
)

num <- function(x) ifelse(is.na(x), "null", sprintf("%.17g", x))  # NaN standard errors as null
vec <- function(x) paste0("[", paste(num(x), collapse = ", "), "]")
entries <- character()
for (m in models) {
  name <- m[[1]]; sname <- m[[2]]; constant <- m[[5]]
  y <- ts(series[[sname]], frequency = periods[[sname]])
  fit <- Arima(y, order = m[[3]], seasonal = list(order = m[[4]], period = periods[[sname]]),
               include.mean = constant == "mean", include.drift = constant == "drift", method = "CSS-ML")
  fc <- forecast(fit, h = 12, level = c(80, 95))
  entries <- c(entries, paste0(
    '  {"name": "', name, '", "series": "', sname, '", "period": ', periods[[sname]],
    ', "order": ', vec(m[[3]]), ', "seasonal": ', vec(m[[4]]), ', "constant": "', constant, '"',
    ', "coefficients": ', vec(unname(coef(fit))), ', "se": ', vec(unname(suppressWarnings(sqrt(diag(fit$var.coef))))), ', "loglik": ', num(fit$loglik), ', "aicc": ', num(fit$aicc),
    ', "sigma2": ', num(fit$sigma2),
    ', "mean": ', vec(as.numeric(fc$mean)), ', "lo80": ', vec(as.numeric(fc$lower[, 1])),
    ', "hi80": ', vec(as.numeric(fc$upper[, 1])), ', "lo95": ', vec(as.numeric(fc$lower[, 2])),
    ', "hi95": ', vec(as.numeric(fc$upper[, 2])), '}'))
}
writeLines(c("[", paste(entries, collapse = ",\n"), "]"), file.path(out, "fixed-order.json"))
cat("wrote", length(entries), "models to", file.path(out, "fixed-order.json"), "\n")
