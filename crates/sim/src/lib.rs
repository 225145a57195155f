//! Simulated Qlik Cloud and Alumio tenants on loopback, with latency, rate limits and injected
//! faults, for the demo, the tests and the benchmarks.
