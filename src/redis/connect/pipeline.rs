//! Pipelines and MULTI/EXEC on a [`Conn`], at the node that serves their
//! keys, following the cluster when it answers with a redirect.

use ::redis::{Cmd, Pipeline, Value};

use super::Conn;
use super::link::{Replayed, has_error};
use super::redirect::{Hops, Redirect};
use super::route::Route;
use super::slot_map::NodeId;
use crate::redis::errors::RedisFailure;

impl Conn {
    pub(super) async fn transaction(
        &mut self,
        pipe: &Pipeline,
        route: Route,
    ) -> Result<Vec<Value>, RedisFailure> {
        let mut node = self.node_for(route).await?;
        let (mut asking, mut hops) = (false, Hops::default());
        loop {
            let i = self.link_index(node).await?;
            let timeout = self.response_timeout;
            let link = &mut self.links[i].1;
            let result = if asking {
                link.transaction_asking(pipe, timeout).await
            } else {
                link.transaction(pipe, timeout).await
            };
            if let Err(e) = &result
                && let Some(redirect) = Redirect::of_error(e, &self.connector.cluster().addr(node))
                && let Some(next) = self
                    .follow(redirect, route, first_key(pipe), &mut hops)
                    .await?
            {
                (node, asking) = next;
                continue;
            }
            return self.settle(node, result);
        }
    }

    pub(super) async fn pipeline(
        &mut self,
        pipe: &Pipeline,
        route: Route,
    ) -> Result<Vec<Value>, RedisFailure> {
        let node = self.node_for(route).await?;
        let i = self.link_index(node).await?;
        let timeout = self.response_timeout;
        let mut replies = match self.links[i].1.commands(pipe, timeout).await {
            Ok(r) => r,
            Err(e) => return self.settle(node, Err(e)),
        };
        if !replies.iter().any(has_error) {
            return self.settle(node, Ok(replies));
        }
        let node = self.resend_refused(pipe, route, node, &mut replies).await?;
        if !replies.iter().any(has_error) {
            return self.settle(node, Ok(replies));
        }
        self.settle(node, pipe.query_async(&mut Replayed(replies)).await)
    }

    /// Part of a pipeline may run before a slot moves (MIGRATE runs between
    /// two of its commands): only the refused commands are sent again, at
    /// the node the redirect names, until none is refused (or the hops run
    /// out). Returns the node that answered last.
    async fn resend_refused(
        &mut self,
        pipe: &Pipeline,
        route: Route,
        mut node: NodeId,
        replies: &mut [Value],
    ) -> Result<NodeId, RedisFailure> {
        let timeout = self.response_timeout;
        let mut hops = Hops::default();
        loop {
            let here = self.connector.cluster().addr(node);
            let refused: Vec<usize> = (0..replies.len())
                .filter(|&k| matches!(&replies[k], Value::ServerError(e) if Redirect::of(e, &here).is_some()))
                .collect();
            let Some(Value::ServerError(first)) = refused.first().map(|&k| &replies[k]) else {
                return Ok(node);
            };
            let Some(redirect) = Redirect::of(first, &here) else {
                return Ok(node);
            };
            let key = first_key(pipe);
            let Some((next, asking)) = self.follow(redirect, route, key, &mut hops).await? else {
                return Ok(node);
            };
            node = next;
            let cmds: Vec<&Cmd> = pipe
                .cmd_iter()
                .enumerate()
                .filter(|(k, _)| refused.contains(k))
                .map(|(_, c)| c)
                .collect();
            let i = self.link_index(node).await?;
            match self.links[i].1.commands_of(&cmds, asking, timeout).await {
                Ok(again) => {
                    for (k, v) in refused.iter().zip(again) {
                        replies[*k] = v;
                    }
                }
                Err(e) => return self.settle(node, Err(e)),
            }
        }
    }
}

/// The first key a pipeline carries, to name in an error.
pub(super) fn first_key(pipe: &Pipeline) -> Option<&[u8]> {
    pipe.cmd_iter()
        .find_map(|cmd| super::route::keys(cmd).next())
}
