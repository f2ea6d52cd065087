#!/usr/bin/env Rscript
# Regenerates the auto.arima parity fixtures from R's forecast package (Debian: apt-get install r-cran-forecast):
#   Rscript Sources/Benchmarks/Datasets/make-auto-fixtures.R Sources/Benchmarks/Datasets
# For each real series of R's datasets package: auto/<name>.csv (column "value") and, in auto.json, the
# period and the model auto.arima() chooses with its defaults (orders, constant, AICc).
suppressPackageStartupMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) > 0) args[1] else "."
dir.create(file.path(out, "auto"), showWarnings = FALSE)
series <- list(lh = lh, LakeHuron = LakeHuron, Nile = Nile, WWWusage = WWWusage, lynx = lynx,
  sunspot.year = sunspot.year, austres = austres, uspop = uspop, BJsales = BJsales, treering = treering[1:300],
  USAccDeaths = USAccDeaths, AirPassengersLog = log(AirPassengers), nottem = nottem, UKgas = UKgas,
  JohnsonJohnsonLog = log(JohnsonJohnson), co2 = co2, ldeaths = ldeaths, UKDriverDeaths = UKDriverDeaths,
  LakeHuron.rev = rev(as.numeric(LakeHuron)), discoveries = discoveries)
num <- function(x) sprintf("%.17g", x)
entries <- character()
for (name in names(series)) {
  y <- series[[name]]
  if (!is.ts(y)) y <- ts(y)
  write.csv(data.frame(value = as.numeric(y)), file.path(out, "auto", paste0(name, ".csv")), row.names = FALSE)
  fit <- auto.arima(y)
  a <- fit$arma  # p, q, P, Q, m, d, D
  constant <- any(c("intercept", "drift") %in% names(coef(fit)))
  entries <- c(entries, sprintf(
    '  {"name": "%s", "period": %d, "p": %d, "d": %d, "q": %d, "P": %d, "D": %d, "Q": %d, "constant": %s, "aicc": %s}',
    name, as.integer(frequency(y)), as.integer(a[1]), as.integer(a[6]), as.integer(a[2]), as.integer(a[3]),
    as.integer(a[7]), as.integer(a[4]), tolower(constant), num(fit$aicc)))
}
writeLines(c("[", paste(entries, collapse = ",\n"), "]"), file.path(out, "auto.json"))
# The long-season stress series for `corral bench forecast`: half-hourly electricity demand, m = 48.
write.csv(data.frame(value = as.numeric(taylor)[1:2000]), file.path(out, "auto", "taylor2000.csv.stress"),
  row.names = FALSE)
cat("wrote", length(entries), "series to", file.path(out, "auto.json"), "\n")
