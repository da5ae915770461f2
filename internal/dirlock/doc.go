// Package dirlock holds an exclusive OS lock on a directory for the life of a process, so that two processes
// never run on one JetStream store or one dev data directory: a second server on a live store loses
// acknowledged messages, and a wipe of a live directory loses everything.
//
// Model: the lock is flock(2) (LOCK_EX|LOCK_NB) on the file [FileName] inside the directory. The file holds
// the holder's pid, host and start time as JSON, so that a refused process can name the holder. The kernel
// releases the lock when its holder's file is closed, that is when the holder exits in any way, SIGKILL
// included: a crashed holder never blocks a restart, and the file left behind is never taken for a live
// holder. The file is never removed (removing it would let a second process lock a new file of the same
// name while the first still holds the old one).
//
// flock locks belong to an open file, not to a process: two Acquire calls on one directory conflict even in
// the same process.
//
// Concurrency: a *Lock's methods are safe for concurrent use; Release is idempotent.
package dirlock
