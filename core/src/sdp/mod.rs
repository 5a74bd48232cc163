//! `sdp`: in progress.
