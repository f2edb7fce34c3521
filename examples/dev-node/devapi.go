package main

import (
	"encoding/json"
	"net/http"

	"github.com/gospresso/gospresso/api"
)

// devInfo is the answer of GET /api/dev-info (docs/operator.md, "dev-node"):
// the union of the fields the reference dev node returns and the ones the
// Espresso Go client's dev-node client reads. l1_url is the L1's JSON-RPC
// URL (the embedded L1's, or --l1-provider-url's first). This dev node has
// no light client contract, no separate builder (the nodes build their own
// blocks) and no prover, so those fields are null and alt_chains is empty.
type devInfo struct {
	BuilderURL           *string    `json:"builder_url"`
	SequencerAPIPort     uint16     `json:"sequencer_api_port"`
	L1URL                *string    `json:"l1_url"`
	L1LightClientAddress *string    `json:"l1_light_client_address"`
	L1ProverPort         *uint16    `json:"l1_prover_port"`
	AltChains            []altChain `json:"alt_chains"`
}

// altChain is one entry of dev-info's alt_chains.
type altChain struct {
	ChainID            uint64 `json:"chain_id"`
	ProviderURL        string `json:"provider_url"`
	LightClientAddress string `json:"light_client_address"`
	ProverPort         uint16 `json:"prover_port"`
}

// devAPI is the dev API module, named "api" as in the reference:
// GET dev-info, and POST set-hotshot-down and set-hotshot-up, which freeze
// and release the light client contract on the L1 and so answer 501 here.
type devAPI struct{ info devInfo }

func (devAPI) Name() string    { return "api" }
func (devAPI) Version() string { return "0.1.0" }

func (d devAPI) Register(r *api.Router, _ api.Backend) error {
	r.Get("dev-info", func(*api.Request) (any, error) { return d.info, nil })
	r.Raw(http.MethodPost, "set-hotshot-down", notAvailable("set-hotshot-down",
		"it freezes the light client contract on the L1 from a given L1 height"))
	r.Raw(http.MethodPost, "set-hotshot-up", notAvailable("set-hotshot-up",
		"it releases the light client contract on the L1"))
	return nil
}

// notAvailable answers 501 with the API's error body. It writes the answer
// itself: an error returned by a handler would be logged as a server
// failure.
func notAvailable(route, what string) func(http.ResponseWriter, *api.Request) {
	body, _ := json.Marshal(api.Errorf(http.StatusNotImplemented,
		"%s is not available yet: %s, and this dev node deploys no light client contract", route, what))
	body = append(body, '\n')
	return func(w http.ResponseWriter, _ *api.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotImplemented)
		_, _ = w.Write(body)
	}
}
