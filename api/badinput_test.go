package api_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/types"
)

// badCase is one bad request and the status it must get.
type badCase struct {
	name   string
	method string
	path   string // escaped path, with query if any
	body   []byte
	header http.Header
	want   int
	// msg, when set, must appear in the error message.
	msg string
}

// Bad values of an integer route parameter (all answered 400).
var badIntegers = map[string]string{
	"empty":            "",
	"letter":           "x",
	"negative":         "-1",
	"fraction":         "1.5",
	"leading zero":     "01",
	"double zero":      "00",
	"plus sign":        "+1",
	"hex":              "0x10",
	"exponent":         "1e3",
	"leading space":    "%201",
	"trailing space":   "1%20",
	"2^64":             "18446744073709551616",
	"huge":             "99999999999999999999999999999999",
	"NUL":              "%00",
	"NUL after digit":  "1%00",
	"fullwidth digit":  url.PathEscape("１"),
	"unicode":          url.PathEscape("ü"),
	"5000 digits":      strings.Repeat("9", 5000),
	"70000 letters":    strings.Repeat("a", 70000),
	"quote":            "%221%22",
	"percent":          "%25",
	"TaggedBase64":     types.TaggedBase64{Tag: types.TagBlock, Value: make([]byte, 32)}.String(),
	"comma":            "1,2",
	"underscore digit": "1_000",
}

// badTagged returns bad values of a TaggedBase64 parameter that wants tag
// (and a 32-byte value when fixed).
func badTagged(tag string, fixed bool) map[string]string {
	v32 := bytes.Repeat([]byte{0x5a}, 32)
	good := types.TaggedBase64{Tag: tag, Value: v32}.String()
	other := types.TagTransaction
	if tag == other {
		other = types.TagBlock
	}
	// Bad checksum: change the last character of the data.
	last := good[len(good)-1]
	flip := byte('A')
	if last == 'A' {
		flip = 'B'
	}
	badSum := good[:len(good)-1] + string(flip)
	data := good[strings.IndexByte(good, '~')+1:]
	out := map[string]string{
		"empty":              "",
		"no tilde":           tag + data,
		"only tilde":         "~",
		"empty tag":          "~" + data,
		"missing checksum":   tag + "~",
		"two tildes":         tag + "~" + data + "~" + data,
		"wrong tag":          types.TaggedBase64{Tag: "WRONG", Value: v32}.String(),
		"other real tag":     types.TaggedBase64{Tag: other, Value: v32}.String(),
		"lowercase tag":      types.TaggedBase64{Tag: strings.ToLower(tag), Value: v32}.String(),
		"bad checksum":       badSum,
		"padding":            good + "%3D",
		"std base64 char":    tag + "~+" + data[1:],
		"invalid tag char":   "B%21OCK~" + data,
		"space in data":      tag + "~" + data[:5] + "%20" + data[5:],
		"NUL":                "%00",
		"integer":            "5",
		"non-canonical bits": tag + "~" + data[:len(data)-1] + string(nonCanonical(data[len(data)-1])),
		"70000 chars":        tag + "~" + strings.Repeat("A", 70000),
		"unicode":            url.PathEscape("BLÖCK~" + data),
	}
	if fixed {
		out["31 bytes"] = types.TaggedBase64{Tag: tag, Value: v32[:31]}.String()
		out["33 bytes"] = types.TaggedBase64{Tag: tag, Value: append(v32, 1)}.String()
		out["0 bytes"] = types.TaggedBase64{Tag: tag, Value: []byte{}}.String()
		out["64 bytes"] = types.TaggedBase64{Tag: tag, Value: append(v32, v32...)}.String()
	}
	return out
}

// nonCanonical returns a base64url character that decodes to the same
// bytes as c in the last position only if trailing bits are ignored.
func nonCanonical(c byte) byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, c)
	return alphabet[i^1]
}

// Bad values of an address parameter.
var badAddresses = map[string]string{
	"empty":           "",
	"letter":          "x",
	"bare 0x":         "0x",
	"39 hex":          "0x" + strings.Repeat("a", 39),
	"41 hex":          "0x" + strings.Repeat("a", 41),
	"no 0x":           strings.Repeat("ab", 20),
	"non-hex":         "0x" + strings.Repeat("zz", 20),
	"NUL":             "%00",
	"TaggedBase64":    types.TaggedBase64{Tag: "ADDR", Value: make([]byte, 20)}.String(),
	"32-byte hash":    "0x" + strings.Repeat("ab", 32),
	"70000 chars":     "0x" + strings.Repeat("a", 70000),
	"integer":         "12",
	"space":           "0x" + strings.Repeat("a", 39) + "%20",
	"double 0x":       "0x0x" + strings.Repeat("a", 38),
	"unicode hex":     url.PathEscape("0x" + strings.Repeat("ａ", 40)),
	"negative number": "-1",
}

var paramRe = regexp.MustCompile(`\{([a-z-]+)\}`)

// paramKind names how route parameter name of route is parsed: "int",
// "namespace", "address", or "tb64:TAG" (":any" when any length passes).
func paramKind(route, name string) string {
	switch name {
	case "height", "from", "until", "index", "to", "view", "start", "end":
		return "int"
	case "namespace":
		return "namespace"
	case "address":
		return "address"
	case "key":
		if strings.Contains(route, "/fee-state/") {
			return "address"
		}
		return "int"
	case "payload-hash":
		return "tb64:" + types.TagPayload
	case "block-hash":
		return "tb64:" + types.TagBlock
	case "commitment":
		return "tb64:" + types.TagChainConfig
	case "commit":
		return "tb64:" + types.TagMerkle + ":any"
	case "hash":
		switch {
		case strings.Contains(route, "/leaf/hash/"):
			return "tb64:" + types.TagLeaf
		case strings.Contains(route, "/transaction/hash/"):
			return "tb64:" + types.TagTransaction
		case strings.Contains(route, "/payload/hash/"):
			return "tb64:" + types.TagPayload
		}
		return "tb64:" + types.TagBlock
	}
	return ""
}

// validParam returns a value of parameter name that names decided data,
// so that a route fails only for the parameter under test.
func (l *live) validParam(t *testing.T, route, name string) string {
	blk := l.txBlock(t)
	h := blk.Height()
	switch name {
	case "height", "to":
		return strconv.FormatUint(h, 10)
	case "from":
		return strconv.FormatUint(h, 10)
	case "until":
		return strconv.FormatUint(h+1, 10)
	case "index":
		return "0"
	case "view":
		return strconv.FormatUint(uint64(blk.Leaf.View), 10)
	case "start":
		return strconv.FormatUint(blk.Leaf.Header.Timestamp, 10)
	case "end":
		return strconv.FormatUint(blk.Leaf.Header.Timestamp+1, 10)
	case "namespace":
		return "7"
	case "address":
		return "0x" + strings.Repeat("ab", 20)
	case "key":
		if strings.Contains(route, "/fee-state/") {
			return "0x" + strings.Repeat("ab", 20)
		}
		return strconv.FormatUint(h-1, 10)
	case "payload-hash":
		return payloadHashOf(&blk).String()
	case "block-hash":
		return blockHashOf(&blk).String()
	case "commitment":
		return types.Commitment(l.net.Genesis.ChainConfig.Commit()).Tagged(types.TagChainConfig).String()
	case "commit":
		return types.TaggedBase64{Tag: types.TagMerkle, Value: make([]byte, 32)}.String()
	case "hash":
		switch k := paramKind(route, name); k {
		case "tb64:" + types.TagLeaf:
			return blk.Leaf.Commit().Tagged(types.TagLeaf).String()
		case "tb64:" + types.TagTransaction:
			return l.batch[0].Commit().Tagged(types.TagTransaction).String()
		case "tb64:" + types.TagPayload:
			return payloadHashOf(&blk).String()
		}
		return blockHashOf(&blk).String()
	}
	t.Fatalf("no valid value for parameter %s of %s", name, route)
	return ""
}

// fill replaces every {param} of route with its value.
func fill(route string, value func(name string) string) string {
	return paramRe.ReplaceAllStringFunc(route, func(m string) string { return value(m[1 : len(m)-1]) })
}

// badInputCases builds the table: bad parameters of every route, wrong
// methods, unknown objects, ranges, bodies and unknown paths.
func badInputCases(t *testing.T, l *live, routes []string) []badCase {
	var cases []badCase
	add := func(c badCase) { cases = append(cases, c) }
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	validBody := func(route string) []byte {
		switch {
		case strings.HasSuffix(route, "/submit/submit"):
			return []byte(`{"namespace":1,"payload":"aGk="}`)
		case strings.HasSuffix(route, "/submit/batch"):
			return []byte(`[{"namespace":1,"payload":"aGk="}]`)
		case strings.HasSuffix(route, "/accounts"):
			return []byte(`["0x` + strings.Repeat("ab", 20) + `"]`)
		}
		return nil
	}

	for _, r := range routes {
		method, route, _ := strings.Cut(r, " ")
		params := paramRe.FindAllStringSubmatch(route, -1)

		// Every bad value of every parameter, the others valid.
		for _, p := range params {
			name := p[1]
			kind := paramKind(route, name)
			var bad map[string]string
			switch {
			case kind == "int":
				bad = badIntegers
			case kind == "namespace":
				bad = map[string]string{}
				for k, v := range badIntegers {
					bad[k] = v
				}
				bad["2^32"] = "4294967296"
				bad["2^64-1"] = "18446744073709551615"
			case kind == "address":
				bad = badAddresses
			case strings.HasPrefix(kind, "tb64:"):
				parts := strings.Split(kind, ":")
				bad = badTagged(parts[1], len(parts) == 2)
			default:
				t.Fatalf("route %s: parameter %s of unknown kind", route, name)
			}
			for what, v := range bad {
				path := fill(route, func(n string) string {
					if n == name {
						return v
					}
					return l.validParam(t, route, n)
				})
				var hdr http.Header
				if method == http.MethodPost {
					hdr = jsonHeader
				}
				add(badCase{name: fmt.Sprintf("%s: %s %s", r, name, what), method: method, path: path, body: validBody(route), header: hdr, want: http.StatusBadRequest})
			}
		}

		// Every other method.
		valid := fill(route, func(n string) string { return l.validParam(t, route, n) })
		others := []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions, "PROPFIND"}
		if method == http.MethodPost {
			others = []string{http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions}
		}
		for _, m := range others {
			add(badCase{name: fmt.Sprintf("%s: method %s", r, m), method: m, path: valid, want: http.StatusMethodNotAllowed})
		}
	}
	for _, path := range []string{"/healthcheck", "/version", "/"} {
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
			add(badCase{name: m + " " + path, method: m, path: path, want: http.StatusMethodNotAllowed})
		}
	}

	// Unknown objects: 404.
	blk := l.txBlock(t)
	h := blk.Height()
	far := uint64(1_000_000_000)
	unknown := bytes.Repeat([]byte{0x77}, 32)
	unk := func(tag string) string { return types.TaggedBase64{Tag: tag, Value: unknown}.String() }
	for _, major := range []int{0, 1} {
		av := fmt.Sprintf("/v%d/availability/", major)
		for _, p := range []string{
			"leaf/%d", "header/%d", "block/%d", "payload/%d", "vid/common/%d", "block/summary/%d",
			"transaction/%d/0", "transaction/%d/0/noproof", "block/%d/namespace/7",
		} {
			for _, x := range []uint64{far, 1<<64 - 1} {
				add(badCase{name: "unknown " + p, method: http.MethodGet, path: av + fmt.Sprintf(p, x), want: http.StatusNotFound})
			}
		}
		for _, p := range []string{
			"leaf/hash/" + unk(types.TagLeaf), "header/hash/" + unk(types.TagBlock), "block/hash/" + unk(types.TagBlock),
			"payload/hash/" + unk(types.TagPayload), "payload/block-hash/" + unk(types.TagBlock), "vid/common/hash/" + unk(types.TagBlock),
			"header/payload-hash/" + unk(types.TagPayload), "block/payload-hash/" + unk(types.TagPayload), "vid/common/payload-hash/" + unk(types.TagPayload),
			"transaction/hash/" + unk(types.TagTransaction), "transaction/hash/" + unk(types.TagTransaction) + "/noproof",
			"block/hash/" + unk(types.TagBlock) + "/namespace/7", "block/payload-hash/" + unk(types.TagPayload) + "/namespace/7",
			fmt.Sprintf("transaction/%d/999", h), fmt.Sprintf("transaction/%d/999/noproof", h), fmt.Sprintf("transaction/%d/18446744073709551615", h),
		} {
			add(badCase{name: "unknown " + p, method: http.MethodGet, path: av + p, want: http.StatusNotFound})
		}
		// Ranges past the decided tip.
		for _, k := range []string{"leaf", "header", "block", "payload", "block/summaries"} {
			add(badCase{name: "range past the tip " + k, method: http.MethodGet, path: fmt.Sprintf("%s%s/%d/%d", av, k, far, far+5), want: http.StatusNotFound})
			add(badCase{name: "range ending past the tip " + k, method: http.MethodGet, path: fmt.Sprintf("%s%s/%d/%d", av, k, h, far), want: http.StatusBadRequest, msg: "limit"})
			add(badCase{name: "range at 2^64 " + k, method: http.MethodGet, path: fmt.Sprintf("%s%s/%d/%d", av, k, uint64(1<<64-3), uint64(1<<64-1)), want: http.StatusNotFound})
		}
		add(badCase{name: "namespace range past the tip", method: http.MethodGet, path: fmt.Sprintf("%sblock/%d/%d/namespace/7", av, far, far+2), want: http.StatusNotFound})

		// Ranges over the limit name it; until below from.
		for k, limit := range map[string]int{"leaf": api.DefaultSmallObjectRangeLimit, "header": api.DefaultSmallObjectRangeLimit,
			"block/summaries": api.DefaultSmallObjectRangeLimit, "block": api.DefaultLargeObjectRangeLimit, "payload": api.DefaultLargeObjectRangeLimit} {
			for _, span := range []int{limit + 1, 10 * limit, 1 << 30} {
				add(badCase{name: fmt.Sprintf("range of %d %s", span, k), method: http.MethodGet, path: fmt.Sprintf("%s%s/0/%d", av, k, span), want: http.StatusBadRequest, msg: strconv.Itoa(limit)})
			}
			add(badCase{name: "range 0 to 2^64-1 " + k, method: http.MethodGet, path: fmt.Sprintf("%s%s/0/18446744073709551615", av, k), want: http.StatusBadRequest, msg: strconv.Itoa(limit)})
			add(badCase{name: "until below from " + k, method: http.MethodGet, path: fmt.Sprintf("%s%s/5/4", av, k), want: http.StatusBadRequest})
			add(badCase{name: "until far below from " + k, method: http.MethodGet, path: fmt.Sprintf("%s%s/18446744073709551615/0", av, k), want: http.StatusBadRequest})
		}
		add(badCase{name: "namespace range over the limit", method: http.MethodGet, path: fmt.Sprintf("%sblock/0/%d/namespace/7", av, api.DefaultLargeObjectRangeLimit+1), want: http.StatusBadRequest, msg: strconv.Itoa(api.DefaultLargeObjectRangeLimit)})
		add(badCase{name: "namespace range until below from", method: http.MethodGet, path: av + "block/5/4/namespace/7", want: http.StatusBadRequest})
		for _, r := range []string{"transactions/count", "payloads/size"} {
			add(badCase{name: "node " + r + " from above to", method: http.MethodGet, path: "/v0/node/" + r + "/3/2", want: http.StatusBadRequest})
		}

		// A stream route without a WebSocket upgrade: 426.
		for _, s := range []string{"leaves/0", "headers/1", "blocks/0", "payloads/0", "vid/common/0", "transactions/0", "transactions/0/namespace/7", "blocks/0/namespace/7"} {
			add(badCase{name: "plain GET of stream " + s, method: http.MethodGet, path: av + "stream/" + s, want: http.StatusUpgradeRequired})
			add(badCase{name: "plain GET of stream far " + s, method: http.MethodGet, path: av + "stream/" + strings.Replace(s, "0", strconv.FormatUint(far, 10), 1), want: http.StatusUpgradeRequired})
		}
	}
	add(badCase{name: "plain GET of events", method: http.MethodGet, path: "/v0/hotshot-events/events", want: http.StatusUpgradeRequired})
	for _, p := range []string{
		fmt.Sprintf("/v0/node/transactions/count/%d", far), fmt.Sprintf("/v0/node/transactions/count/0/%d", far),
		fmt.Sprintf("/v0/node/payloads/size/%d", far), fmt.Sprintf("/v0/node/payloads/size/0/%d", far),
		fmt.Sprintf("/v0/node/header/window/from/%d/%d", far, far), "/v0/node/header/window/from/hash/" + unk(types.TagBlock) + "/5",
		fmt.Sprintf("/v0/catchup/%d/leafchain", far), "/v0/catchup/18446744073709551615/leafchain", "/v0/catchup/18446744073709551614/leafchain",
		"/v0/catchup/chain-config/" + unk(types.TagChainConfig),
		fmt.Sprintf("/v0/state-signature/block/%d", far),
	} {
		add(badCase{name: "unknown " + p, method: http.MethodGet, path: p, want: http.StatusNotFound})
	}
	for _, p := range []string{"/v0/node/transactions/count/9/3", "/v0/node/payloads/size/9/3", "/v0/node/header/window/9/3",
		fmt.Sprintf("/v0/node/header/window/from/%d/0", h), fmt.Sprintf("/v0/node/header/window/from/hash/%s/0", blockHashOf(&blk))} {
		add(badCase{name: "backwards " + p, method: http.MethodGet, path: p, want: http.StatusBadRequest})
	}

	// Bodies.
	big := base64.StdEncoding.EncodeToString(make([]byte, 999_993))
	overLimit := bytes.Repeat([]byte(" "), api.DefaultBodyLimit+1)
	overLimitJSON := []byte(`{"namespace":1,"payload":"` + strings.Repeat("A", api.DefaultBodyLimit) + `"}`)
	manyTxs := "[" + strings.TrimSuffix(strings.Repeat(`{"namespace":1,"payload":""},`, api.DefaultMaxBatch+1), ",") + "]"
	for _, bc := range []struct {
		name string
		path string
		body string
		ct   string
		want int
	}{
		{"not JSON", "submit", "hello", "", 400},
		{"truncated JSON", "submit", `{"namespace":1,`, "", 400},
		{"array", "submit", `[]`, "", 400},
		{"string", "submit", `"tx"`, "", 400},
		{"number", "submit", `42`, "", 400},
		{"null", "submit", `null`, "", 400},
		{"empty object", "submit", `{}`, "", 400},
		{"missing payload", "submit", `{"namespace":1}`, "", 400},
		{"missing namespace", "submit", `{"payload":"aGk="}`, "", 400},
		{"null namespace", "submit", `{"namespace":null,"payload":"aGk="}`, "", 400},
		{"string namespace", "submit", `{"namespace":"1","payload":"aGk="}`, "", 400},
		{"negative namespace", "submit", `{"namespace":-1,"payload":"aGk="}`, "", 400},
		{"fractional namespace", "submit", `{"namespace":1.5,"payload":"aGk="}`, "", 400},
		{"namespace 2^32", "submit", `{"namespace":4294967296,"payload":"aGk="}`, "", 400},
		{"namespace 2^64-1", "submit", `{"namespace":18446744073709551615,"payload":"aGk="}`, "", 400},
		{"namespace 2^64", "submit", `{"namespace":18446744073709551616,"payload":"aGk="}`, "", 400},
		{"payload not base64", "submit", `{"namespace":1,"payload":"%%%"}`, "", 400},
		{"payload without padding", "submit", `{"namespace":1,"payload":"aGk"}`, "", 400},
		{"payload url-safe base64", "submit", `{"namespace":1,"payload":"-_8="}`, "", 400},
		{"payload as array", "submit", `{"namespace":1,"payload":[104,105]}`, "", 400},
		{"trailing value", "submit", `{"namespace":1,"payload":"aGk="}{"namespace":1,"payload":"aGk="}`, "", 400},
		{"trailing garbage", "submit", `{"namespace":1,"payload":"aGk="} x`, "", 400},
		{"payload over max_block_size", "submit", `{"namespace":1,"payload":"` + big + `"}`, "", 400},
		{"empty body", "submit", "", "", 400},
		{"whitespace body", "submit", "  \n", "", 400},
		{"body over the limit", "submit", string(overLimit), "", 413},
		{"JSON body over the limit", "submit", string(overLimitJSON), "", 413},
		{"text/plain", "submit", `{"namespace":1,"payload":"aGk="}`, "text/plain", 415},
		{"form", "submit", `namespace=1`, "application/x-www-form-urlencoded", 415},
		{"json prefix", "submit", `{"namespace":1,"payload":"aGk="}`, "application/jsonx", 415},
		{"octet-stream", "submit", `{"namespace":1,"payload":"aGk="}`, "application/octet-stream", 415},
		{"bad media type", "submit", `{"namespace":1,"payload":"aGk="}`, ";;;", 415},
		{"not JSON", "batch", "hello", "", 400},
		{"object", "batch", `{"namespace":1,"payload":"aGk="}`, "", 400},
		{"null", "batch", `null`, "", 400},
		{"array of numbers", "batch", `[1]`, "", 400},
		{"array of empty objects", "batch", `[{}]`, "", 400},
		{"namespace 2^32", "batch", `[{"namespace":4294967296,"payload":""}]`, "", 400},
		{"over max_block_size", "batch", `[{"namespace":1,"payload":"` + big + `"}]`, "", 400},
		{"too many", "batch", manyTxs, "", 400},
		{"empty body", "batch", "", "", 400},
		{"body over the limit", "batch", string(overLimit), "", 413},
		{"text/plain", "batch", `[]`, "text/plain", 415},
		{"trailing garbage", "batch", `[] ]`, "", 400},
	} {
		ct := bc.ct
		if ct == "" {
			ct = "application/json"
		}
		add(badCase{name: "body " + bc.path + ": " + bc.name, method: http.MethodPost, path: "/v0/submit/" + bc.path, body: []byte(bc.body),
			header: http.Header{"Content-Type": {ct}}, want: bc.want})
	}
	accounts := fmt.Sprintf("/v0/catchup/%d/%d/accounts", h, blk.Leaf.View)
	for _, bc := range []struct {
		name, body, ct string
		want           int
	}{
		{"not JSON", "hello", "", 400},
		{"object", `{}`, "", 400},
		{"numbers", `[1]`, "", 400},
		{"short address", `["0x12"]`, "", 400},
		{"empty body", "", "", 400},
		{"over the limit", string(overLimit), "", 413},
		{"text/plain", `[]`, "text/plain", 415},
	} {
		ct := bc.ct
		if ct == "" {
			ct = "application/json"
		}
		add(badCase{name: "body accounts: " + bc.name, method: http.MethodPost, path: accounts, body: []byte(bc.body), header: http.Header{"Content-Type": {ct}}, want: bc.want})
	}

	// Unknown modules and routes.
	for _, p := range []string{
		"/v0/nope/x", "/v0/nope", "/v9/status/block-height", "/v0", "/v0/", "/v0/status", "/v0/status/", "/v0/status/nope",
		"/v0/status/block-height/", "/v0/status/block-height/extra", "/v1/status/block-height", "/v2/availability/header/1",
		"/v0/availability/header/1/2/3/4", "/nope", "/nope/x", "/v0/availability/stream/nope/0", "/v0/availability/stream",
		"/V0/status/block-height", "/v-1/status/block-height", "/v65536/status/block-height", "/healthcheck/x", "/version/x",
		"/v0/healthcheck", "/v0/version", "//status/block-height", "/v0//block-height", "/v0/status/block-height/%2F",
		"/v0/availability/", "/v0/availability/leaf", "/v0/availability/transaction", "/v0/availability/block/1/2/3",
		"/v0/catchup/1/2/3/4/5", "/v1/node/block-height", "/%00", "/v0/%00",
		"/v0/status/block-height%00", "/" + strings.Repeat("a", 70000), "/v0/" + strings.Repeat("a", 5000) + "/x",
		"/.well-known/security.txt", "/favicon.ico", "/v0/status/../status/block-height", "/v0/./status/block-height",
	} {
		add(badCase{name: "unknown " + trunc(p), method: http.MethodGet, path: p, want: http.StatusNotFound})
	}
	// Two segments under fee-state are {height}/{key}.
	add(badCase{name: "fee-balance without address", method: http.MethodGet, path: "/v0/fee-state/fee-balance/latest", want: http.StatusBadRequest})
	add(badCase{name: "unknown module POST", method: http.MethodPost, path: "/v0/nope/x", want: http.StatusNotFound})
	return cases
}

// TestBadInputs sends every case of the table to a node of a live
// network: each must get its status, never 5xx, with a JSON error body.
func TestBadInputs(t *testing.T) {
	l := startLive(t)
	routes := indexRoutes(t, l.c)
	if len(routes) < 90 {
		t.Fatalf("the index lists %d routes", len(routes))
	}
	cases := badInputCases(t, l, routes)
	t.Logf("%d bad-input cases over %d routes", len(cases), len(routes))
	if len(cases) < 500 {
		t.Fatalf("only %d cases", len(cases))
	}

	// Eight workers, each with its own keep-alive client.
	work := make(chan badCase)
	var mu sync.Mutex
	var failures []string
	counts := map[int]int{}
	var wg sync.WaitGroup
	for range 8 {
		c := newClient(t, l.c.base)
		wg.Go(func() {
			for bc := range work {
				err := runBadCase(c, bc)
				mu.Lock()
				counts[bc.want]++
				if err != nil {
					failures = append(failures, fmt.Sprintf("%s (%s %s): %v", bc.name, bc.method, trunc(bc.path), err))
				}
				mu.Unlock()
			}
		})
	}
	for _, bc := range cases {
		work <- bc
	}
	close(work)
	wg.Wait()
	t.Logf("cases by status: %v", counts)
	for _, f := range failures {
		t.Error(f)
	}
}

func runBadCase(c *client, bc badCase) error {
	req, err := http.NewRequest(bc.method, c.base+bc.path, bytes.NewReader(bc.body))
	if err != nil {
		return err
	}
	if bc.body == nil {
		req.Body, req.ContentLength = nil, 0
	}
	for k, v := range bc.header {
		req.Header[k] = v
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return err
	}
	if resp.StatusCode >= 500 {
		return fmt.Errorf("server error %s: %s", resp.Status, trunc(buf.String()))
	}
	if bc.method == http.MethodHead {
		return nil
	}
	if err := checkErrorBody(resp, buf.Bytes(), bc.want); err != nil {
		return err
	}
	if bc.msg != "" {
		var e apiError
		_ = json.Unmarshal(buf.Bytes(), &e)
		if !strings.Contains(*e.Message, bc.msg) {
			return fmt.Errorf("message %q does not name %q", *e.Message, bc.msg)
		}
	}
	return nil
}
