//! media: audio and video — codecs and their negotiation (more to come: transceivers,
//! packetizers, loss recovery).

pub mod codec;
