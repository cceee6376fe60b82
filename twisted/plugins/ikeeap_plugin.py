"""``twistd ikeeap --config conf/ikeeap.toml``: ikeeap as a conventional Twisted daemon.

No ``__init__.py`` here on purpose: ``twisted/plugins`` is Twisted's namespace for plugins
(setup.cfg installs this file into it).
"""

from __future__ import annotations

from typing import Any, ClassVar

from twisted.application import service
from twisted.plugin import IPlugin
from twisted.python import usage
from zope.interface import implementer


class Options(usage.Options):
    optParameters: ClassVar[list[list[Any]]] = [
        ["config", "c", "conf/ikeeap.toml", "TOML configuration"],
        ["listen", None, None, "address to bind (default from config)"],
        ["port", None, None, "IKE port (default from config)", int],
        ["nat-port", None, None, "NAT-T port (default from config)", int],
        ["log-level", None, None, "debug, info, warning or error"],
    ]


class IkeeapService(service.Service):
    """Starts ServeApp with the reactor; its stop sends DELETEs and Accounting-Off."""

    def __init__(self, options: Any) -> None:
        self.options = options
        self.app: Any = None

    def startService(self) -> None:
        # Imported when the service starts: twistd imports every plugin file just to list it.
        from twisted.internet import reactor

        from ikeeap.bootstrap import ServeOptions
        from ikeeap.server.app import ServeApp

        super().startService()
        listen = (self.options["listen"],) if self.options["listen"] else None
        options = ServeOptions(self.options["config"], listen, self.options["port"],
                               self.options["nat-port"], self.options["log-level"])
        self.app = ServeApp(options, reactor)
        self.app.start()

    def stopService(self) -> Any:
        super().stopService()
        return self.app.stop() if self.app is not None else None


@implementer(service.IServiceMaker, IPlugin)
class IkeeapServiceMaker:
    tapname = "ikeeap"
    description = "IKEv2 responder authenticating remote-access users with EAP"
    options = Options

    def makeService(self, options: Any) -> service.IService:
        return IkeeapService(options)


serviceMaker = IkeeapServiceMaker()
