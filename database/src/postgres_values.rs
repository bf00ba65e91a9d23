//! Values between the SQL layer and PostgreSQL's wire types: parameters bound by the type the server asked for,
//! columns read into the four kinds of value SQLite has.

use crate::values::ValueRef;
use crate::QueryError;
use bytes::BytesMut;
use postgres::types::{IsNull, Type};
use std::error::Error;

/// One parameter, encoded as the type PostgreSQL inferred for it: an integer binds to BIGINT, INTEGER, SMALLINT or
/// BOOLEAN (0 or 1), or to text as its decimal digits; text and blobs bind as themselves.
#[derive(Debug)]
pub(crate) struct PostgresValue<'a>(pub(crate) ValueRef<'a>);

type EncodeResult = Result<IsNull, Box<dyn Error + Sync + Send>>;

impl postgres::types::ToSql for PostgresValue<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> EncodeResult {
        match self.0 {
            ValueRef::Null => Ok(IsNull::Yes),
            ValueRef::Integer(integer) => encode_integer(integer, ty, out),
            ValueRef::Real(real) => real.to_sql(ty, out),
            // JSON's binary form is its text; a text parameter cast to json is bound that way.
            ValueRef::Text(text) if *ty == Type::JSON => {
                out.extend_from_slice(text.as_bytes());
                Ok(IsNull::No)
            }
            ValueRef::Text(text) => text.to_sql(ty, out),
            ValueRef::Blob(blob) => blob.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

fn encode_integer(integer: i64, ty: &Type, out: &mut BytesMut) -> EncodeResult {
    use postgres::types::ToSql;
    match *ty {
        Type::INT4 => i32::try_from(integer)?.to_sql(ty, out),
        Type::INT2 => i16::try_from(integer)?.to_sql(ty, out),
        Type::BOOL => (integer != 0).to_sql(ty, out),
        Type::TEXT | Type::VARCHAR => integer.to_string().to_sql(ty, out),
        Type::FLOAT8 => (integer as f64).to_sql(ty, out),
        _ => integer.to_sql(ty, out),
    }
}

/// Column `index` of `row` as one of the kinds of value the store reads.
pub(crate) fn column_value(row: &postgres::Row, index: usize) -> Result<ValueRef<'_>, QueryError> {
    let column = row.columns().get(index).ok_or(QueryError::NoSuchColumn(index))?;
    let value = match *column.type_() {
        Type::INT8 => row.try_get::<_, Option<i64>>(index)?.map(ValueRef::Integer),
        Type::INT4 => row.try_get::<_, Option<i32>>(index)?.map(|value| ValueRef::Integer(value.into())),
        Type::INT2 => row.try_get::<_, Option<i16>>(index)?.map(|value| ValueRef::Integer(value.into())),
        Type::BOOL => row.try_get::<_, Option<bool>>(index)?.map(|value| ValueRef::Integer(value.into())),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(index)?.map(ValueRef::Real),
        Type::BYTEA => row.try_get::<_, Option<&[u8]>>(index)?.map(ValueRef::Blob),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
            row.try_get::<_, Option<&str>>(index)?.map(ValueRef::Text)
        }
        ref other => return Err(QueryError::UnsupportedColumnType(other.name().to_owned())),
    };
    Ok(value.unwrap_or(ValueRef::Null))
}
