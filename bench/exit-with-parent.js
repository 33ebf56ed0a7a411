// Preloaded (node --import) into the operator processes the benchmark starts: if the benchmark
// dies without stopping them (SIGKILL, a crash), the operator notices its parent is gone and
// exits instead of running on against a control plane that no longer exists.
// Plain JavaScript so that preloading it does not load Node's TypeScript stripper into an
// operator that runs bundled (dist/), whose memory the benchmark measures.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(1);
}, 1000).unref();
