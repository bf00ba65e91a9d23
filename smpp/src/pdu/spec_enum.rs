//! The macro behind [`super::CommandId`] and [`super::CommandStatus`]: a spec-named enum over a `u32` with an
//! `Other(u32)` for values outside the spec's list, so conversion is total both ways and never panics.

/// Defines `$name` with one variant per spec value plus `Other(u32)`. `From<u32>` maps a known value to its
/// variant and anything else to `Other`; `From<$name> for u32` gives the value back, so the wire bytes
/// round-trip exactly. `Other` is meant for values outside the list only: build values with `From<u32>`, which
/// never puts a listed value in `Other`, so `==` and `match` agree with the wire.
macro_rules! spec_enum {
    (
        $(#[$enum_meta:meta])*
        pub enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $value:literal => $spec_name:literal, )*
        }
    ) => {
        $(#[$enum_meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )*
            /// A value outside the spec's list (vendor or later versions), kept as it came.
            Other(u32),
        }

        impl $name {
            /// The value on the wire.
            pub const fn value(self) -> u32 {
                match self {
                    $( $name::$variant => $value, )*
                    $name::Other(value) => value,
                }
            }

            /// The spec's name (`ESME_RTHROTTLED`, `submit_sm`), or `None` for `Other`.
            pub const fn spec_name(self) -> Option<&'static str> {
                match self {
                    $( $name::$variant => Some($spec_name), )*
                    $name::Other(_) => None,
                }
            }
        }

        impl From<u32> for $name {
            fn from(value: u32) -> Self {
                match value {
                    $( $value => $name::$variant, )*
                    other => $name::Other(other),
                }
            }
        }

        impl From<$name> for u32 {
            fn from(value: $name) -> u32 {
                value.value()
            }
        }

        /// The spec's name, or the value in hex when it has none.
        impl std::fmt::Display for $name {
            fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.spec_name() {
                    Some(name) => formatter.write_str(name),
                    None => write!(formatter, "{:#010x}", self.value()),
                }
            }
        }

        /// The value in hex, as `{:#010x}` printed the bare `u32` before.
        impl std::fmt::LowerHex for $name {
            fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::LowerHex::fmt(&self.value(), formatter)
            }
        }
    };
}

pub(super) use spec_enum;
