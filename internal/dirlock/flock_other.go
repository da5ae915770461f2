//go:build !unix

package dirlock

import (
	"errors"
	"os"
)

// errWouldBlock is never returned where flock does not exist.
var errWouldBlock = errors.New("dirlock: would block")

// tryLock refuses: without flock no directory can be locked safely.
func tryLock(*os.File) error { return errors.ErrUnsupported }
