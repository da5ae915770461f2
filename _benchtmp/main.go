package main

import (
	"context"
	"fmt"
	"os"
)

func main() {
	if err := benchIngest(context.Background(), os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
}
