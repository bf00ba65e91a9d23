//! The macro behind the spec-named enums of this crate ([`crate::pdu::CommandId`], the result codes, `Msg_Fmt`, the
//! fee fields): one variant per value the specification lists plus `Other` for the rest, so that conversion is
//! total both ways and never panics.

/// Defines `$name` over the integer `$repr` with one variant per spec value plus `Other($repr)`. `From<$repr>`
/// maps a listed value to its variant and anything else to `Other`; `value()` gives the wire value back, so the
/// bytes round-trip exactly. Build values with `From`, which never puts a listed value in `Other`, so that `==`
/// and `match` agree with the wire.
macro_rules! spec_enum {
    (
        $(#[$enum_meta:meta])*
        pub enum $name:ident: $repr:ty {
            $( $(#[$variant_meta:meta])* $variant:ident = $value:literal => $spec_name:literal, )*
        }
    ) => {
        $(#[$enum_meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )*
            /// A value outside the specification's list (vendor or later versions), kept as it came.
            Other($repr),
        }

        impl $name {
            /// The value on the wire.
            pub const fn value(self) -> $repr {
                match self {
                    $( $name::$variant => $value, )*
                    $name::Other(value) => value,
                }
            }

            /// The specification's wording, or `None` for `Other`.
            pub const fn spec_name(self) -> Option<&'static str> {
                match self {
                    $( $name::$variant => Some($spec_name), )*
                    $name::Other(_) => None,
                }
            }
        }

        impl From<$repr> for $name {
            fn from(value: $repr) -> Self {
                match value {
                    $( $value => $name::$variant, )*
                    other => $name::Other(other),
                }
            }
        }

        impl From<$name> for $repr {
            fn from(value: $name) -> $repr {
                value.value()
            }
        }

        /// The specification's wording, or the value when it has none.
        impl std::fmt::Display for $name {
            fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.spec_name() {
                    Some(name) => formatter.write_str(name),
                    None => write!(formatter, "{}", self.value()),
                }
            }
        }
    };
}

pub(crate) use spec_enum;
