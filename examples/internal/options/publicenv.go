package options

import (
	"slices"
	"strings"
)

// PublicEnvNames returns the environment variables that the config module
// may show at /v0/config/env (docs/api.md, "config"): every ESPRESSO_*
// variable of the option tables, the global options and every module's
// (given on the command line or not), sorted and without duplicates. It
// leaves out the variables of secret options (the private keys and the
// database password, held as [Secret]) and any variable whose name says it
// holds a password, a private key or another secret, so that adding a
// secret option to a table can only shorten the list.
func PublicEnvNames() []string {
	opts := globalOptions(&Global{})
	scratch := &Config{}
	for _, s := range modules() {
		opts = append(opts, s.attach(scratch)...)
	}
	var names []string
	for _, o := range opts {
		if o.secret() {
			continue
		}
		for _, name := range o.env {
			if strings.HasPrefix(name, "ESPRESSO_") && !SecretName(name) {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// secret reports whether the option holds a [Secret].
func (o *option) secret() bool {
	_, ok := o.val.(*field[Secret])
	return ok
}

// SecretName reports whether an environment variable's name says it holds
// a secret: a password, a private or signing key, a mnemonic, a token.
func SecretName(name string) bool {
	up := strings.ToUpper(name)
	for _, s := range []string{"PASSWORD", "PRIVATE", "SECRET", "MNEMONIC", "SIGNING_KEY", "TOKEN"} {
		if strings.Contains(up, s) {
			return true
		}
	}
	return false
}
