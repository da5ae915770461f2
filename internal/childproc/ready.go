package childproc

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/usagepipe/usagepipe/internal/natsembed"
)

// FreeAddrs returns n loopback addresses with ports that were free a moment ago.
func FreeAddrs(n int) ([]string, error) {
	addrs := make([]string, n)
	for i := range addrs {
		port, err := natsembed.FreePort("127.0.0.1")
		if err != nil {
			return nil, fmt.Errorf("childproc: %w", err)
		}
		addrs[i] = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	}
	return addrs, nil
}

// WaitListening waits until addr accepts TCP connections.
func WaitListening(ctx context.Context, addr string, timeout time.Duration) error {
	return Poll(ctx, timeout, func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
}

// WaitHTTP waits until url answers 200.
func WaitHTTP(ctx context.Context, url string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	return Poll(ctx, timeout, func() error {
		resp, err := client.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s answered %s", url, resp.Status)
		}
		return nil
	})
}

// Poll calls try every 100ms until it succeeds, ctx ends or timeout passes; it returns try's last error.
func Poll(ctx context.Context, timeout time.Duration, try func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := try()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v: %w", timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
