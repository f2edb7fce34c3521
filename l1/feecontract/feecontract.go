// Code generated via abigen V2 - DO NOT EDIT.
// This file is a generated binding and any manual changes will be lost.

package feecontract

import (
	"bytes"
	"errors"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Reference imports to suppress errors if they are not otherwise used.
var (
	_ = bytes.Equal
	_ = errors.New
	_ = big.NewInt
	_ = common.Big1
	_ = types.BloomLookup
	_ = abi.ConvertType
)

// FeeContractMetaData contains all meta data concerning the FeeContract contract.
var FeeContractMetaData = bind.MetaData{
	ABI: "[{\"inputs\":[],\"name\":\"InvalidUserAddress\",\"type\":\"error\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"user\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"}],\"name\":\"Deposit\",\"type\":\"event\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"user\",\"type\":\"address\"}],\"name\":\"deposit\",\"outputs\":[],\"stateMutability\":\"payable\",\"type\":\"function\"},{\"stateMutability\":\"payable\",\"type\":\"receive\"}]",
	ID:  "FeeContract",
	Bin: "0x6080604052348015600e575f5ffd5b5061010f8061001c5f395ff3fe608060405260043610610020575f3560e01c8063f340fa0114610060575f5ffd5b3661005c5760405134815233907fe1fffcc4923d04b559f4d29a8bfc6cda04eb5b0d3c460751c2402c5c5cc9109c9060200160405180910390a2005b5f5ffd5b61007361006e3660046100e2565b610075565b005b6001600160a01b03811661009c57604051630702b3d960e41b815260040160405180910390fd5b806001600160a01b03167fe1fffcc4923d04b559f4d29a8bfc6cda04eb5b0d3c460751c2402c5c5cc9109c346040516100d791815260200190565b60405180910390a250565b5f602082840312156100f2575f5ffd5b81356001600160a01b0381168114610108575f5ffd5b939250505056",
}

// FeeContract is an auto generated Go binding around an Ethereum contract.
type FeeContract struct {
	abi abi.ABI
}

// NewFeeContract creates a new instance of FeeContract.
func NewFeeContract() *FeeContract {
	parsed, err := FeeContractMetaData.ParseABI()
	if err != nil {
		panic(errors.New("invalid ABI: " + err.Error()))
	}
	return &FeeContract{abi: *parsed}
}

// Instance creates a wrapper for a deployed contract instance at the given address.
// Use this to create the instance object passed to abigen v2 library functions Call, Transact, etc.
func (c *FeeContract) Instance(backend bind.ContractBackend, addr common.Address) *bind.BoundContract {
	return bind.NewBoundContract(addr, c.abi, backend, backend, backend)
}

// PackDeposit is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf340fa01.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function deposit(address user) payable returns()
func (feeContract *FeeContract) PackDeposit(user common.Address) []byte {
	enc, err := feeContract.abi.Pack("deposit", user)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackDeposit is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf340fa01.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function deposit(address user) payable returns()
func (feeContract *FeeContract) TryPackDeposit(user common.Address) ([]byte, error) {
	return feeContract.abi.Pack("deposit", user)
}

// FeeContractDeposit represents a Deposit event raised by the FeeContract contract.
type FeeContractDeposit struct {
	User   common.Address
	Amount *big.Int
	Raw    *types.Log // Blockchain specific contextual infos
}

const FeeContractDepositEventName = "Deposit"

// ContractEventName returns the user-defined event name.
func (FeeContractDeposit) ContractEventName() string {
	return FeeContractDepositEventName
}

// UnpackDepositEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event Deposit(address indexed user, uint256 amount)
func (feeContract *FeeContract) UnpackDepositEvent(log *types.Log) (*FeeContractDeposit, error) {
	event := "Deposit"
	if len(log.Topics) == 0 || log.Topics[0] != feeContract.abi.Events[event].ID {
		return nil, errors.New("event signature mismatch")
	}
	out := new(FeeContractDeposit)
	if len(log.Data) > 0 {
		if err := feeContract.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range feeContract.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// UnpackError attempts to decode the provided error data using user-defined
// error definitions.
func (feeContract *FeeContract) UnpackError(raw []byte) (any, error) {
	if bytes.Equal(raw[:4], feeContract.abi.Errors["InvalidUserAddress"].ID.Bytes()[:4]) {
		return feeContract.UnpackInvalidUserAddressError(raw[4:])
	}
	return nil, errors.New("Unknown error")
}

// FeeContractInvalidUserAddress represents a InvalidUserAddress error raised by the FeeContract contract.
type FeeContractInvalidUserAddress struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error InvalidUserAddress()
func FeeContractInvalidUserAddressErrorID() common.Hash {
	return common.HexToHash("0x702b3d90f44158a18c5c3e31f1a4b131a521a8262feaaa50809661550c6b0e87")
}

// UnpackInvalidUserAddressError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error InvalidUserAddress()
func (feeContract *FeeContract) UnpackInvalidUserAddressError(raw []byte) (*FeeContractInvalidUserAddress, error) {
	out := new(FeeContractInvalidUserAddress)
	if err := feeContract.abi.UnpackIntoInterface(out, "InvalidUserAddress", raw); err != nil {
		return nil, err
	}
	return out, nil
}
