//! Seeded synthetic topologies.
