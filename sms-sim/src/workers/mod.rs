//! Background loops of the SMS centre: the delivery loop that moves queued MO and receipts to bound receivers.

pub(crate) mod delivery;
