//! Background loops of the SMS centre: the delivery loop that moves queued MO and receipts to bound receivers,
//! and the expiry of concatenated MT parts whose siblings never arrive.

pub(crate) mod delivery;
pub(crate) mod parts_expiry;
