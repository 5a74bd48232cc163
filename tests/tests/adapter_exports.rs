//! The application names every async adapter exports: the shared list of
//! `rtcpeer::runtime::api` (the same types, not look-alikes), its runtime type and
//! `new_peer_connection`, `new_endpoint` and `generate_certificate`. Guards the names applications and the README use; one body, run
//! for each adapter. These checks are made by the compiler: a missing name or a look-alike
//! type stops the test crate from building.

use std::marker::PhantomData;

/// Compiles only when both arguments name the same type.
fn same<T: ?Sized>(_: PhantomData<T>, _: PhantomData<T>) {}

macro_rules! same_types {
    ($($ours:ty => $core:ty),* $(,)?) => {
        $(super::same(PhantomData::<$ours>, PhantomData::<$core>);)*
    };
}

macro_rules! adapter_exports {
    ($adapter:ident, $runtime:ident) => {
        mod $adapter {
            use std::marker::PhantomData;
            use $adapter::rtcpeer::{peer_connection as pc, runtime as rt};
            use $adapter::*;

            #[test]
            fn exports_the_core_async_types_themselves() {
                same_types! {
                    PeerConnection => rt::AsyncPeerConnection,
                    DataChannel => rt::DataChannel,
                    Events => rt::Events,
                    Message => rt::Message,
                    RuntimeError => rt::RuntimeError,
                    SocketConfig => rt::SocketConfig,
                    RecvBatch => rt::RecvBatch,
                    Datagram<'static> => rt::Datagram<'static>,
                    BoxFuture<()> => rt::BoxFuture<()>,
                    dyn Runtime => dyn rt::Runtime,
                    dyn AsyncTimer => dyn rt::AsyncTimer,
                    dyn AsyncUdpSocket => dyn rt::AsyncUdpSocket,
                    Event => pc::Event,
                    ChannelId => pc::ChannelId,
                    DataChannelInit => pc::DataChannelInit,
                    IceCandidate => pc::IceCandidate,
                    IceGatheringState => pc::IceGatheringState,
                    PeerConnectionState => pc::PeerConnectionState,
                    RtcConfiguration => pc::RtcConfiguration,
                    RtcSessionDescription => pc::RtcSessionDescription,
                    SdpType => pc::SdpType,
                    SignalingState => pc::SignalingState,
                    // Issue 12: what every application needs without direct dependencies.
                    Error => $adapter::rtcpeer::Error,
                    IceServer => pc::IceServer,
                    Bytes => bytes::Bytes,
                    Seed => $adapter::rtcpeer::Seed,
                    ChannelState => pc::ChannelState,
                    ChannelEvent => rt::ChannelEvent,
                    // Issue 14: the server case.
                    Endpoint => rt::AsyncEndpoint,
                    EndpointStats => $adapter::rtcpeer::endpoint::EndpointStats,
                    DtlsCertificate => $adapter::rtcpeer::dtls::DtlsCertificate,
                }
            }

            #[test]
            fn adds_its_runtime_and_new_peer_connection() {
                fn is_runtime<R: Runtime>() {}
                is_runtime::<$runtime>();
                let _: fn(
                    RtcConfiguration,
                    &SocketConfig,
                ) -> Result<PeerConnection, rtcpeer::Error> = new_peer_connection;
                let _: fn(&SocketConfig) -> Result<Endpoint, rtcpeer::Error> = new_endpoint;
                let _: fn() -> Result<DtlsCertificate, rtcpeer::Error> = generate_certificate;
            }
        }
    };
}

adapter_exports!(rtcpeer_tokio, TokioRuntime);
adapter_exports!(rtcpeer_smol, SmolRuntime);
