"""The stamps of what a client's agent context is built from (migration 0011 keeps them, by triggers).

- `ClientVersion`: bumped in the transaction of any change to the client's row, accounts, positions or
  transactions;
- `FirmContextEpoch`: bumped by changes to the firm's model portfolios and weights (the summary's drift);
- `ContextEpoch`: one row, bumped by changes to securities (and so by price loads) and by any TRUNCATE of a
  table the document reads.

Each bump takes the next value of the sequence `context_stamps`, so a stamp never repeats. Nothing in the
application writes these tables: the triggers do, so no writer can forget to.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, ForeignKeyConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from wealthgate.db.base import Base


class ClientVersion(Base):
    __tablename__ = "client_versions"
    __table_args__ = (
        ForeignKeyConstraint(["firm_id", "client_id"], ["clients.firm_id", "clients.id"], ondelete="CASCADE"),
    )

    firm_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    client_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class FirmContextEpoch(Base):
    __tablename__ = "firm_context_epochs"

    firm_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("firms.id", ondelete="CASCADE"), primary_key=True
    )
    models: Mapped[int] = mapped_column(BigInteger)


class ContextEpoch(Base):
    __tablename__ = "context_epoch"
    __table_args__ = (CheckConstraint("id", name="one_row"),)

    id: Mapped[bool] = mapped_column(Boolean, primary_key=True, server_default=text("true"))
    epoch: Mapped[int] = mapped_column(BigInteger)
