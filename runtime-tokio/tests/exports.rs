//! The application names `rtcpeer-tokio` exports: the shared list of
//! `rtcpeer::runtime::api` (the same types, not look-alikes), its runtime type and
//! `new_peer_connection`. Guards the names applications and the README use.

use rtcpeer_tokio::{
    AsyncTimer, AsyncUdpSocket, BoxFuture, ChannelId, DataChannel, DataChannelInit, Datagram,
    Event, Events, IceCandidate, IceGatheringState, Message, PeerConnection, PeerConnectionState,
    RecvBatch, RtcConfiguration, RtcSessionDescription, Runtime, RuntimeError, SdpType,
    SignalingState, SocketConfig, TokioRuntime, new_peer_connection, rtcpeer,
};
use std::marker::PhantomData;

/// Compiles only when both arguments name the same type.
fn same<T: ?Sized>(_: PhantomData<T>, _: PhantomData<T>) {}

#[test]
fn tokio_adapter_exports_the_core_async_types_themselves() {
    use rtcpeer::peer_connection as pc;
    use rtcpeer::runtime as rt;
    same(
        PhantomData::<PeerConnection>,
        PhantomData::<rt::AsyncPeerConnection>,
    );
    same(PhantomData::<DataChannel>, PhantomData::<rt::DataChannel>);
    same(PhantomData::<Events>, PhantomData::<rt::Events>);
    same(PhantomData::<Message>, PhantomData::<rt::Message>);
    same(PhantomData::<RuntimeError>, PhantomData::<rt::RuntimeError>);
    same(PhantomData::<SocketConfig>, PhantomData::<rt::SocketConfig>);
    same(PhantomData::<RecvBatch>, PhantomData::<rt::RecvBatch>);
    same(
        PhantomData::<Datagram<'static>>,
        PhantomData::<rt::Datagram<'static>>,
    );
    same(
        PhantomData::<BoxFuture<()>>,
        PhantomData::<rt::BoxFuture<()>>,
    );
    same(PhantomData::<dyn Runtime>, PhantomData::<dyn rt::Runtime>);
    same(
        PhantomData::<dyn AsyncTimer>,
        PhantomData::<dyn rt::AsyncTimer>,
    );
    same(
        PhantomData::<dyn AsyncUdpSocket>,
        PhantomData::<dyn rt::AsyncUdpSocket>,
    );
    same(PhantomData::<Event>, PhantomData::<pc::Event>);
    same(PhantomData::<ChannelId>, PhantomData::<pc::ChannelId>);
    same(
        PhantomData::<DataChannelInit>,
        PhantomData::<pc::DataChannelInit>,
    );
    same(PhantomData::<IceCandidate>, PhantomData::<pc::IceCandidate>);
    same(
        PhantomData::<IceGatheringState>,
        PhantomData::<pc::IceGatheringState>,
    );
    same(
        PhantomData::<PeerConnectionState>,
        PhantomData::<pc::PeerConnectionState>,
    );
    same(
        PhantomData::<RtcConfiguration>,
        PhantomData::<pc::RtcConfiguration>,
    );
    same(
        PhantomData::<RtcSessionDescription>,
        PhantomData::<pc::RtcSessionDescription>,
    );
    same(PhantomData::<SdpType>, PhantomData::<pc::SdpType>);
    same(
        PhantomData::<SignalingState>,
        PhantomData::<pc::SignalingState>,
    );
}

#[test]
fn tokio_adapter_adds_its_runtime_and_new_peer_connection() {
    fn is_runtime<R: Runtime>() {}
    is_runtime::<TokioRuntime>();
    let _: fn(RtcConfiguration, &SocketConfig) -> Result<PeerConnection, rtcpeer::Error> =
        new_peer_connection;
}
