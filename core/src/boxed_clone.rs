//! `Clone` for boxed trait objects. A connection holds its DTLS handshake step and its
//! codecs' packetizers as trait objects; cloning the connection (a fuzzing snapshot, see
//! `PeerConnection` under feature `fuzzing`) clones them through the helper trait declared
//! here, so a clone owns its own copy and shares nothing mutable with the original.

/// Declares the helper trait `$helper` with `clone_boxed`, implements it for every
/// `$tr + Clone + 'static`, and implements `Clone` for `Box<dyn $tr>` through it. `$tr`
/// lists `$helper` among its supertraits, so every implementor of `$tr` must be `Clone`.
macro_rules! boxed_clone {
    ($(#[$doc:meta])* $vis:vis trait $helper:ident for $tr:ident) => {
        $(#[$doc])*
        $vis trait $helper {
            /// A boxed copy of `self`.
            fn clone_boxed(&self) -> Box<dyn $tr>;
        }

        impl<T: $tr + Clone + 'static> $helper for T {
            fn clone_boxed(&self) -> Box<dyn $tr> {
                Box::new(self.clone())
            }
        }

        impl Clone for Box<dyn $tr> {
            fn clone(&self) -> Self {
                self.clone_boxed()
            }
        }
    };
}

pub(crate) use boxed_clone;
