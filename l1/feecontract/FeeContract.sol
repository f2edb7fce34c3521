// SPDX-License-Identifier: Apache-2.0
//
// FeeContract is the L1 fee contract of a gospresso network (docs/l1.md,
// "The fee contract"): an account deposits ether for a builder account, and
// the sequencer credits the builder's fee balance once the block holding the
// Deposit event is finalized on the L1. The contract keeps no balances of its
// own: the Deposit events are the record.
//
// Rebuild the committed ABI, bytecode and Go bindings with ./gen.sh.
pragma solidity ^0.8.20;

contract FeeContract {
    /// Deposit is emitted once for every deposit: user is the account whose
    /// fee balance is credited, amount the wei deposited.
    event Deposit(address indexed user, uint256 amount);

    /// InvalidUserAddress rejects a deposit for the zero address.
    error InvalidUserAddress();

    /// deposit credits msg.value to user.
    function deposit(address user) external payable {
        if (user == address(0)) {
            revert InvalidUserAddress();
        }
        emit Deposit(user, msg.value);
    }

    /// receive credits a plain transfer to its sender.
    receive() external payable {
        emit Deposit(msg.sender, msg.value);
    }
}
