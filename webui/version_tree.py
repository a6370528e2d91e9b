"""Lay out a dataset's version graph for drawing: a column per depth, parents' edges into each child."""

from __future__ import annotations

from dataclasses import dataclass, field

COLUMN_WIDTH, ROW_HEIGHT, NODE_WIDTH, NODE_HEIGHT, MARGIN = 210, 70, 170, 46, 20


@dataclass
class Node:
    version: object
    x: int
    y: int
    is_current: bool
    parent_ids: list = field(default_factory=list)


@dataclass
class Edge:
    x1: int
    y1: int
    x2: int
    y2: int
    order: int  # 1 for the first parent (wins shared frames), 2 for the next...


@dataclass
class Tree:
    nodes: list[Node]
    edges: list[Edge]
    width: int
    height: int


def version_tree(versions: list, parent_ids: dict, current_id) -> Tree:
    """``versions`` in creation order; ``parent_ids`` maps each version id to its ordered parent ids."""
    rows_in_column: dict[int, int] = {}
    nodes: dict = {}
    for version in versions:
        row = rows_in_column.get(version.depth, 0)
        rows_in_column[version.depth] = row + 1
        nodes[version.pk] = Node(version, MARGIN + version.depth * COLUMN_WIDTH, MARGIN + row * ROW_HEIGHT,
                                 version.pk == current_id, parent_ids.get(version.pk, []))
    edges = []
    for node in nodes.values():
        for order, parent_id in enumerate(node.parent_ids, start=1):
            parent = nodes.get(parent_id)
            if parent is not None:
                edges.append(Edge(parent.x + NODE_WIDTH, parent.y + NODE_HEIGHT // 2, node.x,
                                  node.y + NODE_HEIGHT // 2, order))
    width = MARGIN * 2 + (max(rows_in_column, default=0) * COLUMN_WIDTH) + NODE_WIDTH
    height = MARGIN * 2 + max(rows_in_column.values(), default=1) * ROW_HEIGHT
    return Tree(list(nodes.values()), edges, width, height)
