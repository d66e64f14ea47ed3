//! Test servers for adapter tests: a URL from the environment, else (with
//! the `docker` feature, off by default) a container started with
//! `testcontainers` when a Docker engine answers, else a failure that says
//! how to provide one.
//!
//! A container is started once per test process and shared by URL (never by
//! pool: every test builds its own connections on its own runtime). Tests
//! isolate themselves with [`unique_namespace`].

use std::sync::OnceLock;

/// The servers the adapter crates test against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    /// PostgreSQL; URL from `POSTGRES_URL`.
    Postgres,
    /// MySQL 8 or MariaDB; URL from `MYSQL_URL`.
    Mysql,
    /// MongoDB (a one-node replica set, so transactions work); URL from `MONGODB_URL`.
    Mongodb,
    /// Redis 6.2+; URL from `REDIS_URL`.
    Redis,
}

impl Server {
    /// The environment variable that names this server's URL.
    pub fn env_var(self) -> &'static str {
        match self {
            Self::Postgres => "POSTGRES_URL",
            Self::Mysql => "MYSQL_URL",
            Self::Mongodb => "MONGODB_URL",
            Self::Redis => "REDIS_URL",
        }
    }

    /// The container image started for this server when its variable is
    /// unset and the `docker` feature is on: `postgres:16-alpine`,
    /// `mysql:8.4`, `mongo:7` (run as a one-node replica set) or
    /// `redis:7.2-alpine`.
    pub fn image(self) -> &'static str {
        match self {
            Self::Postgres => "postgres:16-alpine",
            Self::Mysql => "mysql:8.4",
            Self::Mongodb => "mongo:7",
            Self::Redis => "redis:7.2-alpine",
        }
    }

    /// The tag of [`image`](Self::image).
    #[cfg_attr(not(feature = "docker"), allow(dead_code))]
    fn tag(self) -> &'static str {
        self.image()
            .split_once(':')
            .map_or("latest", |(_, tag)| tag)
    }

    /// Every server, in declaration order.
    pub const ALL: [Server; 4] = [Self::Postgres, Self::Mysql, Self::Mongodb, Self::Redis];

    fn example_url(self) -> &'static str {
        match self {
            Self::Postgres => "postgres://postgres:postgres@127.0.0.1:5432/postgres",
            Self::Mysql => "mysql://root@127.0.0.1:3306/test",
            Self::Mongodb => "mongodb://127.0.0.1:27017/?directConnection=true",
            Self::Redis => "redis://127.0.0.1:6379",
        }
    }

    fn cell(self) -> &'static OnceLock<Result<String, String>> {
        static CELLS: [OnceLock<Result<String, String>>; 4] = [
            OnceLock::new(),
            OnceLock::new(),
            OnceLock::new(),
            OnceLock::new(),
        ];
        &CELLS[self as usize]
    }
}

/// The URL of `server`: its environment variable if set and non-empty, else a
/// container started for this test process.
///
/// # Panics
/// When neither is available, with a message that says both ways to provide
/// the server. A test that needs a server never skips silently.
pub async fn url(server: Server) -> String {
    if let Ok(url) = std::env::var(server.env_var())
        && !url.trim().is_empty()
    {
        return url;
    }
    let started = tokio::task::spawn_blocking(move || {
        server.cell().get_or_init(|| docker::start(server)).clone()
    })
    .await
    .expect("the container start-up thread panicked");
    started.unwrap_or_else(|why| panic!("{}", missing_server(server, &why)))
}

/// The failure message when `server` has neither a URL nor a container.
fn missing_server(server: Server, why: &str) -> String {
    format!(
        "{var} is not set and no test server could be started: {why}\n\
         Provide the server in one of two ways:\n\
         - start the project's services with `bash scripts/services.sh` and \
           `source .services/env` (or export {var}, e.g. {var}={example});\n\
         - or run a Docker engine, and the tests start a container themselves.",
        var = server.env_var(),
        example = server.example_url(),
    )
}

/// A fresh name for one test's namespace (schema, database, key prefix): the
/// prefix, then 16 random lowercase hex digits. Valid as a PostgreSQL schema,
/// MySQL database, MongoDB database and Redis key prefix.
pub fn unique_namespace(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}_{}", &id[..16])
}

#[cfg(feature = "docker")]
mod docker {
    use super::Server;
    use std::sync::OnceLock;
    use testcontainers::runners::AsyncRunner;
    use testcontainers::{ContainerAsync, ImageExt};
    use testcontainers_modules::{mongo::Mongo, mysql::Mysql, postgres::Postgres, redis::Redis};

    /// Containers live as long as the test process: a runtime of their own
    /// keeps their handles, which are never dropped.
    fn runtime() -> &'static tokio::runtime::Runtime {
        static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
        RUNTIME.get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("a Tokio runtime for test containers")
        })
    }

    async fn host_port<I: testcontainers::Image>(
        container: &ContainerAsync<I>,
        port: u16,
    ) -> Result<(String, u16), String> {
        let host = container.get_host().await.map_err(|e| e.to_string())?;
        let port = container
            .get_host_port_ipv4(port)
            .await
            .map_err(|e| e.to_string())?;
        Ok((host.to_string(), port))
    }

    fn keep<I: testcontainers::Image>(container: ContainerAsync<I>) {
        std::mem::forget(container);
    }

    pub(super) fn start(server: Server) -> Result<String, String> {
        let docker_err = |e: testcontainers::TestcontainersError| {
            format!("starting a {server:?} container failed (is a Docker engine running?): {e}")
        };
        runtime().block_on(async move {
            match server {
                Server::Postgres => {
                    let c = Postgres::default()
                        .with_tag(server.tag())
                        .start()
                        .await
                        .map_err(docker_err)?;
                    let (host, port) = host_port(&c, 5432).await?;
                    keep(c);
                    Ok(format!(
                        "postgres://postgres:postgres@{host}:{port}/postgres"
                    ))
                }
                Server::Mysql => {
                    let c = Mysql::default()
                        .with_tag(server.tag())
                        .start()
                        .await
                        .map_err(docker_err)?;
                    let (host, port) = host_port(&c, 3306).await?;
                    keep(c);
                    Ok(format!("mysql://root@{host}:{port}/test"))
                }
                Server::Mongodb => {
                    let c = Mongo::repl_set()
                        .with_tag(server.tag())
                        .start()
                        .await
                        .map_err(docker_err)?;
                    let (host, port) = host_port(&c, 27017).await?;
                    keep(c);
                    Ok(format!("mongodb://{host}:{port}/?directConnection=true"))
                }
                Server::Redis => {
                    let c = Redis::default()
                        .with_tag(server.tag())
                        .start()
                        .await
                        .map_err(docker_err)?;
                    let (host, port) = host_port(&c, 6379).await?;
                    keep(c);
                    Ok(format!("redis://{host}:{port}"))
                }
            }
        })
    }
}

#[cfg(not(feature = "docker"))]
mod docker {
    use super::Server;

    pub(super) fn start(_server: Server) -> Result<String, String> {
        Err("adapter-conformance was built without its `docker` feature".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_server_says_both_ways_to_provide_it() {
        let message = missing_server(Server::Mysql, "no Docker engine");
        for needle in [
            "MYSQL_URL",
            "scripts/services.sh",
            "Docker",
            "no Docker engine",
        ] {
            assert!(
                message.contains(needle),
                "{needle:?} missing from: {message}"
            );
        }
    }

    #[test]
    fn the_readme_names_the_images_the_code_starts() {
        let readme = include_str!("../README.md");
        for server in Server::ALL {
            let image = format!("`{}`", server.image());
            assert!(readme.contains(&image), "README.md does not name {image}");
            let module = server.image().split_once(':').unwrap().0;
            assert_eq!(server.tag(), &server.image()[module.len() + 1..]);
        }
    }

    #[test]
    fn namespaces_are_fresh_and_portable() {
        let a = unique_namespace("pg");
        assert_ne!(a, unique_namespace("pg"));
        assert!(a.starts_with("pg_") && a.len() == 19);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
        );
    }
}
