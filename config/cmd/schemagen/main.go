// Command schemagen writes the JSON Schema of the configuration format,
// generated from the Go model in package config. Run it through go
// generate in the config directory:
//
//	go generate ./config/
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/supervisor-sdk/supervisor/config/internal/schemagen"
)

func main() {
	dir := flag.String("dir", ".", "directory of package config")
	out := flag.String("o", "supervisor.schema.json", "file to write")
	flag.Parse()
	b, err := schemagen.Generate(*dir)
	if err == nil {
		err = os.WriteFile(*out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
}
