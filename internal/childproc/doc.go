// Package childproc runs the module's own commands as supervised child processes on this machine: it builds
// the binaries (Build), starts each in its own process group, SIGKILLs and restarts it, restarts it after a
// crash, waits until it listens or is ready, and reads its resident memory. It is the process layer of
// `usagepipe chaos` (internal/chaos) and `usagepipe bench pipeline` (internal/benchmark/pipeline).
//
// # Model
//
// A [Proc] is one command line ([Spec]) that can be started any number of times; at most one process of it
// runs at once. Its output is appended to one log file, each run preceded by a [StartLine]. An exit nobody
// asked for (neither Kill nor Close) is a crash: the Proc starts again after a backoff (0.5 s doubling up
// to 5 s). Kill SIGKILLs the process group and waits until it is reaped; Close does the same and forbids
// any later start. On Linux the kernel also SIGKILLs a child whose parent dies (Pdeathsig).
//
// # Concurrency
//
// A Proc is safe for concurrent use; each running process has one goroutine that reaps it. The helpers
// (FreeAddrs, WaitListening, WaitHTTP, Poll, Build) are plain functions.
package childproc
