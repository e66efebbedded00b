//! `named_enum!`: a plain enum stored in Postgres, sent as snake_case, shown with a label, and read
//! back from the words people type.

/// Declares a plain enum with its stored name, its label and the words it is parsed from.
#[macro_export]
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal, $sql:literal { $($variant:ident = $stored:literal, $label:literal, [$($alias:literal),*];)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "ssr", derive(sqlx::Type, schemars::JsonSchema))]
        #[cfg_attr(feature = "ssr", sqlx(type_name = $sql, rename_all = "snake_case"))]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The name stored and sent over the API.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $stored,)+
                }
            }

            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                let lower = value.trim().to_ascii_lowercase();
                let words: Vec<&str> = lower
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .collect();
                let wanted = words.join("_");
                $(
                    if wanted == $stored $(|| wanted == $alias)* {
                        return Ok($name::$variant);
                    }
                )+
                let names: Vec<&str> = vec![$($stored),+];
                Err(format!(concat!("unknown ", $what, " `{}`: expected {}"), value.trim(), names.join(", ")))
            }
        }
    };
}
