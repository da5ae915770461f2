//go:build unix

package dirlock

import (
	"errors"
	"os"
	"syscall"
)

// errWouldBlock: another open file holds the lock.
var errWouldBlock = syscall.EWOULDBLOCK

// tryLock takes an exclusive flock on f without waiting.
func tryLock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
