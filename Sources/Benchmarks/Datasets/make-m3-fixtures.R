#!/usr/bin/env Rscript
# R's side of the M3 monthly panel (run make-m3-fixtures.py first; Debian: apt-get install r-cran-forecast):
#   Rscript Sources/Benchmarks/Datasets/make-m3-fixtures.R Sources/Benchmarks/Datasets/m3
# Reads m3/monthly.csv, fits forecast::auto.arima with its defaults to each training part (frequency 12)
# and writes m3/r.csv: the model (orders, constant), the CPU seconds of the fit, and its 18 forecasts.
suppressPackageStartupMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args) > 0) args[1] else "."
panel <- read.csv(file.path(dir, "monthly.csv"), stringsAsFactors = FALSE)
ids <- unique(panel$id)
rows <- character()
for (id in ids) {
  y <- ts(panel$value[panel$id == id & panel$part == "train"], frequency = 12)
  cpu <- system.time(fit <- auto.arima(y))
  f <- forecast(fit, h = 18)$mean
  a <- fit$arma  # p, q, P, Q, m, d, D
  constant <- any(c("intercept", "drift") %in% names(coef(fit)))
  rows <- c(rows, paste(c(id, a[1], a[6], a[2], a[3], a[7], a[4], tolower(constant),
    sprintf("%.4f", cpu[["user.self"]] + cpu[["sys.self"]]), sprintf("%.17g", as.numeric(f))), collapse = ","))
}
header <- paste(c("id", "p", "d", "q", "P", "D", "Q", "constant", "cpu", paste0("f", 1:18)), collapse = ",")
writeLines(c(header, rows), file.path(dir, "r.csv"))
