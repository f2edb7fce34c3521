package options

import (
	"fmt"
	"strings"
)

// Summary describes the effective configuration for the start-up output:
// the modules, the storage backend, and every option (global or module) whose
// value differs from its default. Secrets never appear: private keys and the
// database password print as "<redacted>", URL passwords as "xxxxx".
func (c *Config) Summary() string {
	var b strings.Builder
	mods := "none"
	if len(c.Modules) > 0 {
		mods = strings.Join(c.Modules, ", ")
	}
	fmt.Fprintf(&b, "modules: %s\n", mods)
	switch {
	case c.StorageSQL != nil && c.StorageSQL.Backend() == BackendSQLite:
		fmt.Fprintf(&b, "storage: storage-sql, SQLite at %s\n", c.StorageSQL.SQLitePath)
	case c.StorageSQL != nil:
		m := c.StorageSQL
		fmt.Fprintf(&b, "storage: storage-sql, Postgres %s@%s:%d/%s (tls %t)\n", m.User, m.Host, m.Port, m.Database, m.UseTLS)
	case c.StorageFS != nil:
		fmt.Fprintf(&b, "storage: storage-fs at %s\n", c.StorageFS.Path)
	default:
		b.WriteString("storage: no storage module; consensus data goes to file-system storage at ./storage\n")
	}
	writeChanged(&b, "global options", globalOptions(&c.Global), globalOptions(&Global{}))
	specs := modules()
	for _, name := range c.Modules {
		spec, err := lookupModule(specs, name)
		if err != nil {
			continue
		}
		writeChanged(&b, "module "+name, spec.attach(c), spec.attach(&Config{}))
	}
	return b.String()
}

// writeChanged lists the options of cur whose value differs from the same
// row of def once def's defaults are applied.
func writeChanged(b *strings.Builder, title string, cur, def []*option) {
	for _, o := range def {
		if o.def != "" {
			_ = o.val.Set(o.def) // every default parses; the tests hold that
		}
	}
	var lines []string
	for i, o := range cur {
		if o.hidden || o.val.String() == def[i].val.String() {
			continue
		}
		v := o.val.String()
		if v == "" {
			v = "none"
		}
		lines = append(lines, fmt.Sprintf("  %s=%s\n", o.name(), v))
	}
	if len(lines) == 0 {
		fmt.Fprintf(b, "%s: all defaults\n", title)
		return
	}
	fmt.Fprintf(b, "%s (changed from defaults):\n%s", title, strings.Join(lines, ""))
}
