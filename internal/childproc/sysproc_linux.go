package childproc

import "syscall"

// childAttr puts a child in its own process group and has the kernel SIGKILL it if its parent dies.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
