/// Benchmarks: the measurement code behind `corral bench …`. Each benchmark compares Corral against its
/// peers in the same run and reports ratios, because the machines it runs on are shared and noisy. The data
/// sets it reads are in Datasets/ beside it (`Datasets`).
