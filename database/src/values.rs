//! The values that cross the SQL layer: parameters (`ToSql`, `Params`, `params!`) and column values (`FromSql`).
//!
//! Both backends see the same four kinds of value SQLite has (NULL, integer, text, blob); a boolean is the integer
//! 0 or 1 on both, so one SQL text (`WHERE refunded = 1`) reads the same column on either.

use crate::QueryError;

/// One value as bound to a parameter or read from a column, borrowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl ValueRef<'_> {
    /// The kind of value, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            ValueRef::Null => "null",
            ValueRef::Integer(_) => "integer",
            ValueRef::Real(_) => "real",
            ValueRef::Text(_) => "text",
            ValueRef::Blob(_) => "blob",
        }
    }
}

/// A value that can be bound to a statement's parameter.
pub trait ToSql {
    fn to_value(&self) -> ValueRef<'_>;
}

impl<T: ToSql + ?Sized> ToSql for &T {
    fn to_value(&self) -> ValueRef<'_> {
        (**self).to_value()
    }
}

impl<T: ToSql> ToSql for Option<T> {
    fn to_value(&self) -> ValueRef<'_> {
        match self {
            Some(value) => value.to_value(),
            None => ValueRef::Null,
        }
    }
}

impl ToSql for ValueRef<'_> {
    fn to_value(&self) -> ValueRef<'_> {
        *self
    }
}

impl ToSql for str {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Text(self)
    }
}

impl ToSql for String {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Text(self)
    }
}

impl ToSql for [u8] {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
}

impl ToSql for Vec<u8> {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
}

impl<const N: usize> ToSql for [u8; N] {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
}

impl ToSql for bool {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Integer(i64::from(*self))
    }
}

macro_rules! integer_to_sql {
    ($($integer:ty),*) => {$(
        impl ToSql for $integer {
            fn to_value(&self) -> ValueRef<'_> {
                ValueRef::Integer(i64::from(*self))
            }
        }
    )*};
}
integer_to_sql!(i64, i32, i16, i8, u32, u16, u8);

macro_rules! wide_integer_to_sql {
    ($($integer:ty),*) => {$(
        /// Saturates at `i64::MAX`: counts and sizes never come near it.
        impl ToSql for $integer {
            fn to_value(&self) -> ValueRef<'_> {
                ValueRef::Integer(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
wide_integer_to_sql!(u64, usize);

/// A statement's parameters: `()`, `[]`, an array of one type, `params![...]` or [`params_from_iter`].
pub trait Params {
    /// Calls `bind` with the parameters in order (`?1` first).
    fn with_values<R>(self, bind: impl FnOnce(&[&dyn ToSql]) -> R) -> R;
}

impl Params for () {
    fn with_values<R>(self, bind: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
        bind(&[])
    }
}

impl Params for [&dyn ToSql; 0] {
    fn with_values<R>(self, bind: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
        bind(&[])
    }
}

impl Params for &[&dyn ToSql] {
    fn with_values<R>(self, bind: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
        bind(self)
    }
}

macro_rules! array_params {
    ($($length:literal),*) => {$(
        impl<T: ToSql> Params for [T; $length] {
            fn with_values<R>(self, bind: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
                let values: [&dyn ToSql; $length] = std::array::from_fn(|index| &self[index] as &dyn ToSql);
                bind(&values)
            }
        }
        impl<T: ToSql> Params for &[T; $length] {
            fn with_values<R>(self, bind: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
                let values: [&dyn ToSql; $length] = std::array::from_fn(|index| &self[index] as &dyn ToSql);
                bind(&values)
            }
        }
    )*};
}
array_params!(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);

/// Parameters from an iterator (a query built from the filters present).
pub struct ParamsFromIter<I>(I);

/// Binds the items of `iterator` in order.
pub fn params_from_iter<I>(iterator: I) -> ParamsFromIter<I>
where
    I: IntoIterator,
    I::Item: ToSql,
{
    ParamsFromIter(iterator)
}

impl<I> Params for ParamsFromIter<I>
where
    I: IntoIterator,
    I::Item: ToSql,
{
    fn with_values<R>(self, bind: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
        let items: Vec<I::Item> = self.0.into_iter().collect();
        let values: Vec<&dyn ToSql> = items.iter().map(|item| item as &dyn ToSql).collect();
        bind(&values)
    }
}

/// `params![a, b, c]`: parameters of different types, in order.
#[macro_export]
macro_rules! params {
    () => {
        &[] as &[&dyn $crate::ToSql]
    };
    ($($parameter:expr),+ $(,)?) => {
        &[$(&$parameter as &dyn $crate::ToSql),+] as &[&dyn $crate::ToSql]
    };
}

/// A value that can be read from a column.
pub trait FromSql: Sized {
    fn from_value(value: ValueRef<'_>) -> Result<Self, QueryError>;
}

fn wrong_type<T>(value: ValueRef<'_>, wanted: &'static str) -> Result<T, QueryError> {
    Err(QueryError::WrongColumnType { found: value.kind(), wanted })
}

impl<T: FromSql> FromSql for Option<T> {
    fn from_value(value: ValueRef<'_>) -> Result<Self, QueryError> {
        match value {
            ValueRef::Null => Ok(None),
            value => T::from_value(value).map(Some),
        }
    }
}

impl FromSql for i64 {
    fn from_value(value: ValueRef<'_>) -> Result<Self, QueryError> {
        match value {
            ValueRef::Integer(integer) => Ok(integer),
            value => wrong_type(value, "integer"),
        }
    }
}

macro_rules! narrow_integer_from_sql {
    ($($integer:ty),*) => {$(
        impl FromSql for $integer {
            fn from_value(value: ValueRef<'_>) -> Result<Self, QueryError> {
                let wide = i64::from_value(value)?;
                <$integer>::try_from(wide).map_err(|_| QueryError::IntegerOutOfRange(wide))
            }
        }
    )*};
}
narrow_integer_from_sql!(i32, u32, u64, usize, u16, u8);

impl FromSql for bool {
    fn from_value(value: ValueRef<'_>) -> Result<Self, QueryError> {
        Ok(i64::from_value(value)? != 0)
    }
}

impl FromSql for f64 {
    fn from_value(value: ValueRef<'_>) -> Result<Self, QueryError> {
        match value {
            ValueRef::Real(real) => Ok(real),
            ValueRef::Integer(integer) => Ok(integer as f64),
            value => wrong_type(value, "real"),
        }
    }
}

impl FromSql for String {
    fn from_value(value: ValueRef<'_>) -> Result<Self, QueryError> {
        match value {
            ValueRef::Text(text) => Ok(text.to_owned()),
            value => wrong_type(value, "text"),
        }
    }
}

impl FromSql for Vec<u8> {
    fn from_value(value: ValueRef<'_>) -> Result<Self, QueryError> {
        match value {
            ValueRef::Blob(blob) => Ok(blob.to_vec()),
            value => wrong_type(value, "blob"),
        }
    }
}

impl<const N: usize> FromSql for [u8; N] {
    fn from_value(value: ValueRef<'_>) -> Result<Self, QueryError> {
        match value {
            ValueRef::Blob(blob) => {
                blob.try_into().map_err(|_| QueryError::WrongColumnType { found: "blob", wanted: "fixed-size blob" })
            }
            value => wrong_type(value, "blob"),
        }
    }
}
