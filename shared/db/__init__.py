"""Database: the tables, per-loop engines for the writer and reader, and the migrations."""
