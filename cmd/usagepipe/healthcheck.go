package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/usagepipe/usagepipe/internal/redact"
)

const healthcheckUsage = "usage: usagepipe healthcheck URL (exits 0 when URL answers 2xx within 3s)"

// runHealthcheck GETs a URL and fails unless it answers 2xx: the container health check of images without a shell.
func runHealthcheck(ctx context.Context, args []string, _ func(string) string, stdout io.Writer) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprintln(stdout, healthcheckUsage)
		return nil
	}
	if len(args) != 1 {
		return fmt.Errorf("healthcheck: %s", healthcheckUsage)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	shown := redact.URLs(args[0]) // the URL may carry user info
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, args[0], nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %s: bad URL", shown)
	}
	resp, err := http.DefaultClient.Do(req)
	var uerr *url.Error
	if errors.As(err, &uerr) { // its text holds the URL, user info and all
		err = uerr.Err
	}
	if err != nil {
		return fmt.Errorf("healthcheck: GET %s: %w", shown, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("healthcheck: %s answered %s", shown, resp.Status)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}
