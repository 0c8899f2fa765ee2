<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>App</name>
    <message>
        <location filename="../app/hearth/ui/app.py" line="29"/>
        <source>Hearth cannot start: %1</source>
        <translation>Hearth 无法启动：%1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/app.py" line="38"/>
        <source>Hearth could not start its service on port %1 (is Hearth already running?): %2</source>
        <translation>Hearth 无法在端口 %1 上启动服务（Hearth 是否已在运行？）：%2</translation>
    </message>
</context>
<context>
    <name>ChatPage</name>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="114"/>
        <source>Conversations</source>
        <translation>对话列表</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="121"/>
        <source>New chat</source>
        <translation>新对话</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="136"/>
        <source>Open the Planner</source>
        <translation>打开规划器</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="145"/>
        <source>System prompt (optional)</source>
        <translation>系统提示词（可选）</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="146"/>
        <source>System prompt</source>
        <translation>系统提示词</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="161"/>
        <source>Conversation</source>
        <translation>对话</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="172"/>
        <source>Ask something… (Ctrl+Enter sends)</source>
        <translation>问点什么…（Ctrl+Enter 发送）</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="174"/>
        <source>Message</source>
        <translation>消息</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="179"/>
        <location filename="../app/hearth/ui/chat_page.py" line="590"/>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="181"/>
        <source>Regenerate</source>
        <translation>重新生成</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="183"/>
        <source>Edit question</source>
        <translation>编辑问题</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="184"/>
        <source>Take back the last question and its answer to change it</source>
        <translation>撤回最后一个问题及其回答，以便修改后重新发送</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="186"/>
        <source>Copy answer</source>
        <translation>复制回答</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="192"/>
        <source>context %p%</source>
        <translation>上下文 %p%</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="193"/>
        <source>Context used</source>
        <translation>已用上下文</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="198"/>
        <source>Temperature</source>
        <translation>温度</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="199"/>
        <source>Max tokens</source>
        <translation>最大词元数</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="354"/>
        <source>Rename…</source>
        <translation>重命名…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="355"/>
        <source>Export as Markdown…</source>
        <translation>导出为 Markdown…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="356"/>
        <source>Export as JSON…</source>
        <translation>导出为 JSON…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="358"/>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="363"/>
        <source>Rename</source>
        <translation>重命名</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="363"/>
        <source>Title</source>
        <translation>标题</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="384"/>
        <source>Markdown (*.md)</source>
        <translation>Markdown (*.md)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="384"/>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="385"/>
        <source>Export conversation</source>
        <translation>导出对话</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="392"/>
        <source>Exported to %1</source>
        <translation>已导出到 %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="433"/>
        <source>No model loaded: choose one on the Planner page.</source>
        <translation>尚未加载模型：请在“规划”页面选择一个。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="541"/>
        <source>%1 tokens/s · first token %2 ms · %3</source>
        <translation>%1 词元/秒 · 首个词元 %2 毫秒 · %3</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="402"/>
        <source>%1 on %2</source>
        <translation>%1，运行于 %2</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="407"/>
        <source>continues text; not tuned for chat</source>
        <translation>续写文本；未针对对话调优</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="420"/>
        <source>%1 left, so the model stopped. The Planner proposes a plan over the devices left.</source>
        <translation>%1 已离开，模型因此停止。规划器为剩下的设备给出了新方案。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="425"/>
        <source>Planning again did not work: %1</source>
        <translation>重新规划失败：%1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="428"/>
        <source>Devices that joined would make this model faster: %1 tokens/s instead of %2.</source>
        <translation>新加入的设备可让此模型更快：每秒 %1 个词元，而不是 %2 个。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="495"/>
        <source>Copy code block</source>
        <translation>复制代码块</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="538"/>
        <source>%1 % of guesses kept</source>
        <translation>猜中 %1 %</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="548"/>
        <source>Stopped</source>
        <translation>已停止</translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/chat_page.py" line="567"/>
        <source>Waiting for a place: the model gives %n answers at once, all taken.</source>
        <translation>
            <numerusform>等待空位：模型同时给出 %n 个回答，均已占用。</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="573"/>
        <source>Answering another app…</source>
        <translation>正在回答另一个应用…</translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/chat_page.py" line="575"/>
        <source>%n answers running</source>
        <translation>
            <numerusform>%n 个回答进行中</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/chat_page.py" line="579"/>
        <source>%n more waiting</source>
        <translation>
            <numerusform>还有 %n 个在等待</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="590"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="597"/>
        <source>You</source>
        <translation>你</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="597"/>
        <source>Hearth</source>
        <translation>Hearth</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="597"/>
        <source>System</source>
        <translation>系统</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="603"/>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="603"/>
        <source>code</source>
        <translation>代码</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="625"/>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="627"/>
        <source>failed: %1</source>
        <translation>失败：%1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="629"/>
        <source>failed</source>
        <translation>失败</translation>
    </message>
</context>
<context>
    <name>Cli</name>
    <message>
        <location filename="../app/hearth/cli/chat.py" line="73"/>
        <source>this device</source>
        <translation>本设备</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/chat.py" line="75"/>
        <source>pooled over %1: %2</source>
        <translation>合并运行于 %1：%2</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/chat.py" line="128"/>
        <source>could not load %1: %2</source>
        <translation>无法加载 %1：%2</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/chat.py" line="148"/>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/chat.py" line="153"/>
        <source>the answer stopped: %1</source>
        <translation>回答中断：%1</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/chat.py" line="164"/>
        <source>Type a message and press Enter. Ctrl-C stops an answer; /exit or Ctrl-D leaves.</source>
        <translation>输入消息后按 Enter。Ctrl-C 停止回答；/exit 或 Ctrl-D 退出。</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/chat.py" line="185"/>
        <source>cannot pool again: %1</source>
        <translation>无法重新合并设备：%1</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/models.py" line="63"/>
        <source>nothing found</source>
        <translation>未找到任何结果</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/models.py" line="68"/>
        <source>embedding model</source>
        <translation>嵌入模型</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/models.py" line="135"/>
        <source>paused: run the same command again to resume</source>
        <translation>已暂停：再次运行同一命令即可继续</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/node.py" line="180"/>
        <source>%1 shows a 6-digit code.</source>
        <translation>%1 上显示了一个 6 位数字的代码。</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/node.py" line="191"/>
        <source>pairing failed: %1</source>
        <translation>配对失败：%1</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/node.py" line="193"/>
        <source>paired with %1</source>
        <translation>已与 %1 配对</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/node.py" line="199"/>
        <source>Code: </source>
        <translation>代码：</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/node.py" line="202"/>
        <source>no code was entered</source>
        <translation>未输入代码</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/node.py" line="219"/>
        <source>forgot %1</source>
        <translation>已忘记 %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/node.py" line="228"/>
        <source>added %1 at %2</source>
        <translation>已添加 %1，地址 %2</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/node.py" line="229"/>
        <source>pair with: %1</source>
        <translation>配对命令：%1</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/plan.py" line="129"/>
        <source>plan %1  ·  %2 tokens/s predicted  ·  context %3</source>
        <translation>方案 %1  ·  预计每秒 %2 个词元  ·  上下文 %3</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/plan.py" line="145"/>
        <source>Compute buffers as llama.cpp sizes them for this plan.</source>
        <translation>计算缓冲区按 llama.cpp 为此方案计算的大小。</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/serve.py" line="50"/>
        <source>loading %1 with plan %2 (context %3)</source>
        <translation>正在按方案 %2 加载 %1（上下文 %3）</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/serve.py" line="63"/>
        <source>serving %1 at %2</source>
        <translation>%1 已在 %2 提供服务</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/serve.py" line="71"/>
        <source>every request needs the key: `hearth serve` shows it with --show-key</source>
        <translation>每个请求都需要密钥：用 `hearth serve --show-key` 可查看</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/serve.py" line="77"/>
        <source>paired devices&apos; apps may be answered here too</source>
        <translation>配对设备的应用也可以在这里得到回答</translation>
    </message>
</context>
<context>
    <name>CodeDialog</name>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="99"/>
        <source>Pairing request</source>
        <translation>配对请求</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="101"/>
        <source>%1 wants to pair with this device. Type this code there:</source>
        <translation>%1 想与本设备配对。请在那台设备上输入此代码：</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="113"/>
        <source>Only pair with devices you own. The code is valid for %1 seconds.</source>
        <translation>只与您自己的设备配对。此代码 %1 秒内有效。</translation>
    </message>
</context>
<context>
    <name>DeviceCard</name>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="48"/>
        <source>Pair…</source>
        <translation>配对…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="50"/>
        <source>Forget</source>
        <translation>忘记</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="67"/>
        <source> (this device)</source>
        <translation>（本设备）</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="75"/>
        <source>%1 memory</source>
        <translation>内存 %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="81"/>
        <location filename="../app/hearth/ui/devices_page.py" line="149"/>
        <source>Used</source>
        <translation>已用</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="82"/>
        <location filename="../app/hearth/ui/devices_page.py" line="151"/>
        <source>Donated</source>
        <translation>已共享</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="86"/>
        <source>%1 used · %2 free of %3</source>
        <translation>已用 %1 · 可用 %2 / 共 %3</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="88"/>
        <location filename="../app/hearth/ui/devices_page.py" line="161"/>
        <source>donates %1</source>
        <translation>共享 %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="90"/>
        <source>RAM: %1</source>
        <translation>内存：%1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="97"/>
        <source>Donating to paired devices</source>
        <translation>正在向已配对设备共享算力</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="97"/>
        <source>Not donating</source>
        <translation>未共享</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="99"/>
        <source>Paired · connected · %1 ms</source>
        <translation>已配对 · 已连接 · %1 毫秒</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="101"/>
        <source>Paired · not reachable</source>
        <translation>已配对 · 无法连接</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="105"/>
        <source>Not paired</source>
        <translation>未配对</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="105"/>
        <source>Not paired · offline</source>
        <translation>未配对 · 离线</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="109"/>
        <source>answers paired devices&apos; apps with %1</source>
        <translation>用 %1 回答配对设备的应用</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="111"/>
        <source>answers your apps with %1</source>
        <translation>用 %1 回答你的应用</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="114"/>
        <source>(%1 of %2 places taken)</source>
        <translation>（已占用 %1/%2 个位置）</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="117"/>
        <source>idle · would load %1 for paired devices&apos; apps</source>
        <translation>空闲 · 会为已配对设备的应用加载 %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="119"/>
        <source>idle · would load %1 for your apps</source>
        <translation>空闲 · 会为你的应用加载 %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="145"/>
        <source>%1 · shares the RAM</source>
        <translation>%1 · 与内存共享</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="154"/>
        <source>%1 · GPU memory: %2 used · %3 free of %4</source>
        <translation>%1 · 显存：已用 %2 · 可用 %3，共 %4</translation>
    </message>
</context>
<context>
    <name>DeviceColumn</name>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="74"/>
        <source>System</source>
        <translation>系统</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="75"/>
        <source>Weights</source>
        <translation>权重</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="76"/>
        <source>KV cache</source>
        <translation>KV 缓存</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="77"/>
        <source>Compute</source>
        <translation>计算缓冲</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="81"/>
        <source>no layers</source>
        <translation>无层</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="83"/>
        <source>layers %1–%2</source>
        <translation>第 %1–%2 层</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="84"/>
        <source>needs %1 of %2</source>
        <translation>需要 %1 / 共 %2</translation>
    </message>
</context>
<context>
    <name>DevicesPage</name>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="171"/>
        <source>Add by address…</source>
        <translation>按地址添加…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="176"/>
        <source>Devices in this home appear here by themselves.</source>
        <translation>家中的设备会自动出现在这里。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="219"/>
        <source>Forget %1?</source>
        <translation>要忘记 %1 吗？</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="220"/>
        <source>%1 will no longer be trusted; pairing again needs a new code.</source>
        <translation>将不再信任 %1；再次配对需要新的代码。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="234"/>
        <source>Add a device</source>
        <translation>添加设备</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="235"/>
        <source>Address (host:port) of a device running Hearth</source>
        <translation>运行 Hearth 的设备地址（主机:端口）</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="248"/>
        <source>Could not add it: %1</source>
        <translation>无法添加：%1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="243"/>
        <source>Found %1</source>
        <translation>已找到 %1</translation>
    </message>
</context>
<context>
    <name>DownloadRow</name>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="44"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="47"/>
        <source>Plan and chat</source>
        <translation>规划并聊天</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="48"/>
        <source>Open the Planner with this model</source>
        <translation>用此模型打开规划器</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="68"/>
        <source>%1 of %2</source>
        <translation>%1 / %2</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="72"/>
        <source>%1/s</source>
        <translation>%1/秒</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="74"/>
        <source>%1 left</source>
        <translation>剩余 %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="77"/>
        <source>Paused at %1</source>
        <translation>已暂停：%1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="79"/>
        <source>Stopped: %1</source>
        <translation>已停止：%1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="81"/>
        <source>Done: %1</source>
        <translation>完成：%1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="83"/>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="83"/>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
</context>
<context>
    <name>DownloadsView</name>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="102"/>
        <source>No downloads. Pick a model from the catalog or a hub search.</source>
        <translation>没有下载任务。请从目录中选择模型，或在模型库中搜索。</translation>
    </message>
</context>
<context>
    <name>GuessingBox</name>
    <message>
        <location filename="../app/hearth/ui/guessing_box.py" line="20"/>
        <source>A draft model of the library, else the answer&apos;s own text</source>
        <translation>库中的草稿模型，否则用回答自身的文本</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/guessing_box.py" line="21"/>
        <source>From the answer&apos;s own text only</source>
        <translation>仅根据回答自身的文本</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/guessing_box.py" line="22"/>
        <source>Off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/guessing_box.py" line="28"/>
        <source>A small model with the same tokenizer, or the text said so far, guesses the next few tokens and the model checks them in one pass: the same answer, sooner. Applies to the next model loaded.</source>
        <translation>一个使用相同分词器的小模型，或已说出的文本，会猜测接下来的几个词元，由模型一次性验证：答案相同，来得更快。对下一次加载的模型生效。</translation>
    </message>
</context>
<context>
    <name>GuessingLine</name>
    <message>
        <location filename="../app/hearth/ui/guessing_line.py" line="46"/>
        <source>Guessing ahead is off (Settings).</source>
        <translation>提前猜测已关闭（设置）。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/guessing_line.py" line="57"/>
        <source>Guesses ahead from the answer&apos;s own text: no memory beyond the model.</source>
        <translation>根据回答自身的文本提前猜测：无需模型以外的内存。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/guessing_line.py" line="60"/>
        <source>%1% of its guesses kept so far.</source>
        <translation>目前已采纳其 %1% 的猜测。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/guessing_line.py" line="66"/>
        <source>Guesses ahead with %1 (%2 more here): up to %3× as fast where a pass costs about one token</source>
        <translation>使用 %1 提前猜测（此设备多占 %2）：在一次处理的开销约等于一个词元的地方，最多快 %3×</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/guessing_line.py" line="74"/>
        <source>from %1% of its guesses kept so far.</source>
        <translation>依据目前已采纳的 %1% 猜测。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/guessing_line.py" line="76"/>
        <source>expected until answers measure it.</source>
        <translation>为预计值，直到回答测出实际值。</translation>
    </message>
</context>
<context>
    <name>HubList</name>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="46"/>
        <source>fits this device</source>
        <translation>本设备可运行</translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/hub_list.py" line="48"/>
        <source>fits with your paired devices (%n devices)</source>
        <translation>
            <numerusform>需与已配对设备合力运行（%n 台设备）</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="50"/>
        <source>too large</source>
        <translation>太大，无法运行</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="51"/>
        <source>about %1 tokens/s</source>
        <translation>约 %1 词元/秒</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="55"/>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="55"/>
        <source>Quantization</source>
        <translation>量化</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="55"/>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="55"/>
        <source>Fits</source>
        <translation>能否运行</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="62"/>
        <source>checking…</source>
        <translation>检查中…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="94"/>
        <source>unknown: the hub cannot be reached</source>
        <translation>未知：无法连接模型库</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="96"/>
        <source>unknown: %1</source>
        <translation>未知：%1</translation>
    </message>
</context>
<context>
    <name>LayerStrip</name>
    <message>
        <location filename="../app/hearth/ui/layer_strip.py" line="199"/>
        <source>Pick a model</source>
        <translation>选择模型</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/layer_strip.py" line="215"/>
        <source>out</source>
        <translation>输出</translation>
    </message>
</context>
<context>
    <name>Legend</name>
    <message>
        <location filename="../app/hearth/ui/legend.py" line="26"/>
        <source>System and other apps</source>
        <translation>系统及其他应用</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/legend.py" line="27"/>
        <source>Weights</source>
        <translation>权重</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/legend.py" line="28"/>
        <source>KV cache</source>
        <translation>KV 缓存</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/legend.py" line="29"/>
        <source>Compute buffers</source>
        <translation>计算缓冲区</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/legend.py" line="30"/>
        <source>Free</source>
        <translation>空闲</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="59"/>
        <source>Pages</source>
        <translation>页面</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="99"/>
        <source>&amp;Hearth</source>
        <translation>&amp;Hearth</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="100"/>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="107"/>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="108"/>
        <source>Keyboard &amp;shortcuts</source>
        <translation>键盘快捷键(&amp;S)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="118"/>
        <source>Go to the page: Devices, Planner, Chat, Models, Settings</source>
        <translation>转到页面：设备、规划器、聊天、模型、设置</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="119"/>
        <source>Send the message (in the chat)</source>
        <translation>发送消息（在聊天中）</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="120"/>
        <source>Tab</source>
        <translation>Tab</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="120"/>
        <source>Leave the message box for the next control</source>
        <translation>从消息框移到下一个控件</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="121"/>
        <source>Quit Hearth</source>
        <translation>退出 Hearth</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="122"/>
        <source>Show these shortcuts</source>
        <translation>显示这些快捷键</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="127"/>
        <source>Keyboard shortcuts</source>
        <translation>键盘快捷键</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="146"/>
        <source>Devices</source>
        <translation>设备</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="147"/>
        <source>Planner</source>
        <translation>规划器</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="148"/>
        <source>Chat</source>
        <translation>聊天</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="149"/>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="150"/>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="298"/>
        <source>Pairing request</source>
        <translation>配对请求</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="305"/>
        <source>Paired with %1.</source>
        <translation>已与 %1 配对。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="311"/>
        <source>%1 wants to pair. Code: %2</source>
        <translation>%1 请求配对。代码：%2</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="319"/>
        <source>Hearth keeps donating from the tray.</source>
        <translation>Hearth 会在托盘中继续共享算力。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="327"/>
        <source>This desktop has no tray, so closing the window quits Hearth and stops donating.</source>
        <translation>此桌面没有系统托盘，因此关闭窗口会退出 Hearth 并停止共享算力。</translation>
    </message>
</context>
<context>
    <name>ModelsPage</name>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="83"/>
        <source>Import a .gguf file…</source>
        <translation>导入 .gguf 文件…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="79"/>
        <source>Models on this device</source>
        <translation>本设备上的模型</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="57"/>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="58"/>
        <source>On this device</source>
        <translation>本设备上</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="59"/>
        <location filename="../app/hearth/ui/models_page.py" line="232"/>
        <source>Catalog</source>
        <translation>目录</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="60"/>
        <source>Search the hub</source>
        <translation>搜索模型库</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="64"/>
        <source>Downloads</source>
        <translation>下载</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="85"/>
        <source>Import an MLX folder…</source>
        <translation>导入 MLX 文件夹…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="87"/>
        <source>A folder with config.json and .safetensors weights (mlx-lm&apos;s format)</source>
        <translation>包含 config.json 和 .safetensors 权重的文件夹（mlx-lm 格式）</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="90"/>
        <source>Plan and chat</source>
        <translation>规划并聊天</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="92"/>
        <source>Show in folder</source>
        <translation>在文件夹中显示</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="94"/>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="120"/>
        <source>%1 — cannot be used: %2</source>
        <translation>%1 — 无法使用：%2</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="122"/>
        <location filename="../app/hearth/ui/models_page.py" line="274"/>
        <source>embedding model</source>
        <translation>嵌入模型</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="127"/>
        <source>continues text; not tuned for chat</source>
        <translation>续写文本；未针对对话调优</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="133"/>
        <source>No models on this device yet. The Catalog tab suggests models that fit your devices.</source>
        <translation>本设备上还没有模型。“目录”标签页会推荐适合您设备的模型。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="158"/>
        <source>yes</source>
        <translation>有</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="158"/>
        <source>no: continues text; not tuned for chat</source>
        <translation>没有：只会续写文本，未针对对话调优</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="160"/>
        <source>Architecture</source>
        <translation>架构</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="161"/>
        <source>Parameters</source>
        <translation>参数量</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="162"/>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="163"/>
        <source>Quantization</source>
        <translation>量化</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="164"/>
        <source>Layers</source>
        <translation>层数</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="167"/>
        <source>%1 a layer, %2 for each token</source>
        <translation>每层 %1 个，每个词元用 %2 个</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="168"/>
        <source>Experts</source>
        <translation>专家</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="170"/>
        <source>Context length</source>
        <translation>上下文长度</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="171"/>
        <source>Licence</source>
        <translation>许可证</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="171"/>
        <source>not stated in the file</source>
        <translation>文件中未注明</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="172"/>
        <source>Chat template</source>
        <translation>对话模板</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="173"/>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="192"/>
        <source>Delete %1 from this device?</source>
        <translation>要从本设备删除 %1 吗？</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="193"/>
        <source>Delete model</source>
        <translation>删除模型</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="199"/>
        <source>Deleted %1</source>
        <translation>已删除 %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="205"/>
        <source>Import an MLX model folder</source>
        <translation>导入 MLX 模型文件夹</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="212"/>
        <source>Import a model</source>
        <translation>导入模型</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="212"/>
        <source>GGUF models (*.gguf);;All files (*)</source>
        <translation>GGUF 模型 (*.gguf);;所有文件 (*)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="216"/>
        <source>Checking %1…</source>
        <translation>正在检查 %1…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="219"/>
        <source>%1 was not imported: %2</source>
        <translation>未导入 %1：%2</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="224"/>
        <source>Imported %1</source>
        <translation>已导入 %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="235"/>
        <location filename="../app/hearth/ui/models_page.py" line="336"/>
        <source>Download</source>
        <translation>下载</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="260"/>
        <source>Instruct models from small to 70B class. Each says whether it fits this device, your paired devices together, or neither.</source>
        <translation>从小型到 70B 级别的指令模型。每个模型都会注明：本设备能否运行、需与已配对设备合力运行，还是都无法运行。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="272"/>
        <source>MoE</source>
        <translation>MoE</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="276"/>
        <source>pools well</source>
        <translation>适合合用</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="284"/>
        <source>mixture of experts: %1 B read a token</source>
        <translation>混合专家：每个词元读取 %1B</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="287"/>
        <source>calls tools</source>
        <translation>可调用工具</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="289"/>
        <source>suits pooling</source>
        <translation>适合多设备合用</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="290"/>
        <source>licence %1</source>
        <translation>许可证 %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="291"/>
        <source>context %1</source>
        <translation>上下文 %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="300"/>
        <source>Asking the hub for %1…</source>
        <translation>正在向模型库查询 %1…</translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/models_page.py" line="304"/>
        <source>%n layers</source>
        <translation>
            <numerusform>%n 层</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="320"/>
        <source>Welcome to Hearth. Start with a model: those marked &quot;fits this device&quot; run here alone, the others need your paired devices. Small ones download in minutes.</source>
        <translation>欢迎使用 Hearth。先选一个模型吧：标有“本设备可运行”的模型在这台设备上就能独立运行，其他模型需要已配对的设备一起运行。小模型几分钟即可下载完成。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="329"/>
        <source>Search GGUF models on Hugging Face, e.g. &quot;qwen 7b&quot;</source>
        <translation>在 Hugging Face 上搜索 GGUF 模型，例如“qwen 7b”</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="330"/>
        <source>Search text</source>
        <translation>搜索内容</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="332"/>
        <source>Search</source>
        <translation>搜索</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="335"/>
        <source>Search results</source>
        <translation>搜索结果</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="357"/>
        <source>Searching the hub for %1…</source>
        <translation>正在模型库中搜索 %1…</translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/models_page.py" line="381"/>
        <source>%n model file found</source>
        <translation>
            <numerusform>找到 %n 个模型文件</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/models_page.py" line="383"/>
        <source>%n model files found</source>
        <translation>
            <numerusform>找到 %n 个模型文件</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="406"/>
        <source>Downloaded %1. Next: Plan and chat, beside it on the Downloads tab.</source>
        <translation>%1 已下载。下一步：在“下载”标签页中点击它旁边的“规划并聊天”。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="412"/>
        <source>%1 stopped: %2</source>
        <translation>%1 已停止：%2</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="394"/>
        <source>Downloading %1</source>
        <translation>正在下载 %1</translation>
    </message>
</context>
<context>
    <name>OtherAppsBox</name>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="27"/>
        <source>Other apps</source>
        <translation>其他应用</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="30"/>
        <source>Let apps on this device use the loaded model (OpenAI-compatible API)</source>
        <translation>允许本设备上的应用使用已加载的模型（兼容 OpenAI 的 API）</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="32"/>
        <source>Also let other devices on the network use it (they need the key)</source>
        <translation>也允许网络中的其他设备使用（需要密钥）</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="36"/>
        <source>none (web pages may not call it)</source>
        <translation>无（网页不可调用）</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="37"/>
        <source>Keep other apps&apos; conversations in the chat history</source>
        <translation>在聊天记录中保存其他应用的对话</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="38"/>
        <source>Also answer apps that speak only Ollama&apos;s API</source>
        <translation>也应答只支持 Ollama API 的应用</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="41"/>
        <location filename="../app/hearth/ui/other_apps.py" line="95"/>
        <source>Ollama API port</source>
        <translation>Ollama API 端口</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="43"/>
        <source>Load another model of the library when an app asks for it</source>
        <translation>应用请求时加载库中的其他模型</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="44"/>
        <source>Also when that model needs other devices</source>
        <translation>即使该模型需要其他设备</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="51"/>
        <source>Only to a paired device that offers the same model file; the request and its answer cross the paired devices&apos; encrypted channel.</source>
        <translation>只发送到提供同一模型文件的配对设备；请求和回答经由配对设备之间的加密通道传输。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="66"/>
        <source>Show</source>
        <translation>显示</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="71"/>
        <source>Copy key</source>
        <translation>复制密钥</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="73"/>
        <source>New key</source>
        <translation>新密钥</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="78"/>
        <source>Copy example</source>
        <translation>复制示例</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="80"/>
        <source>Apply</source>
        <translation>应用</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="93"/>
        <source>Port</source>
        <translation>端口</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="96"/>
        <source>Web pages allowed (origins, comma-separated)</source>
        <translation>允许的网页（来源，以逗号分隔）</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="102"/>
        <source>Address</source>
        <translation>地址</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="65"/>
        <location filename="../app/hearth/ui/other_apps.py" line="104"/>
        <source>Key</source>
        <translation>密钥</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="47"/>
        <source>Send apps&apos; requests to a paired device when the model here is busy</source>
        <translation>此处模型忙碌时，把应用的请求发送到配对设备</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="103"/>
        <source>Ollama API</source>
        <translation>Ollama API</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="105"/>
        <source>Try it</source>
        <translation>试一试</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="130"/>
        <location filename="../app/hearth/ui/other_apps.py" line="138"/>
        <source>Not listening: %1</source>
        <translation>未在监听：%1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="132"/>
        <source>%1 (this device only)</source>
        <translation>%1（仅本设备）</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="135"/>
        <location filename="../app/hearth/ui/other_apps.py" line="140"/>
        <source>Off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="156"/>
        <source>Saved.</source>
        <translation>已保存。</translation>
    </message>
</context>
<context>
    <name>PairDialog</name>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="27"/>
        <source>Pair with %1</source>
        <translation>与 %1 配对</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="28"/>
        <source>Asking %1… A code appears on that device.</source>
        <translation>正在请求 %1… 那台设备上会显示代码。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="31"/>
        <source>6-digit code</source>
        <translation>6 位代码</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="39"/>
        <source>Pair</source>
        <translation>配对</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="56"/>
        <source>Type the code shown on %1.</source>
        <translation>请输入 %1 上显示的代码。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="67"/>
        <source>Checking the code…</source>
        <translation>正在验证代码…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="75"/>
        <source>Paired with %1.</source>
        <translation>已与 %1 配对。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="81"/>
        <source>Pairing failed: %1</source>
        <translation>配对失败：%1</translation>
    </message>
</context>
<context>
    <name>PlannerPage</name>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="85"/>
        <source>Get a model</source>
        <translation>获取模型</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="93"/>
        <source>Auto plan</source>
        <translation>自动规划</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="95"/>
        <source>Load</source>
        <translation>加载</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="97"/>
        <source>Use its GGUF</source>
        <translation>改用其 GGUF 版本</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="98"/>
        <source>The same model as GGUF, from this device&apos;s library: it pools</source>
        <translation>本设备库中同一模型的 GGUF 版本：可以分到多台设备上运行</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="101"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="125"/>
        <location filename="../app/hearth/ui/planner_page.py" line="128"/>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="126"/>
        <location filename="../app/hearth/ui/planner_page.py" line="131"/>
        <source>Context</source>
        <translation>上下文</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="127"/>
        <source>Layers of the model</source>
        <translation>模型的各层</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="250"/>
        <source>%1 left. The plan below uses the devices that are left: Load to go on.</source>
        <translation>%1 已离开。下面的方案只用剩下的设备：点击“加载”继续。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="253"/>
        <source>A faster plan with the devices that joined.</source>
        <translation>加入新设备后更快的方案。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="311"/>
        <source>No model yet: download or import one on the Models page.</source>
        <translation>还没有模型：请在“模型”页面下载或导入 .gguf 文件。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="317"/>
        <source>%1 layers</source>
        <translation>%1 层</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="319"/>
        <source>context %1</source>
        <translation>上下文 %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="346"/>
        <source>%1 (this device)</source>
        <translation>%1（本设备）</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="256"/>
        <source>MLX models run on this Mac alone; to pool this model over your devices, use its GGUF.</source>
        <translation>MLX 模型只在这台 Mac 上运行；要把模型分到多台设备上运行，请使用它的 GGUF 版本。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="383"/>
        <source>predicted %1 tokens/s</source>
        <translation>预计 %1 词元/秒</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="386"/>
        <source>memory as llama.cpp sizes it</source>
        <translation>内存按 llama.cpp 的计算</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="389"/>
        <source>last measured %1 tokens/s</source>
        <translation>上次实测 %1 词元/秒</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="393"/>
        <source>A device would run out of memory</source>
        <translation>有设备内存将不足</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="419"/>
        <location filename="../app/hearth/ui/planner_page.py" line="423"/>
        <source>%1 reads %2/s</source>
        <translation>%1 读取 %2/秒</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="421"/>
        <location filename="../app/hearth/ui/planner_page.py" line="425"/>
        <source>%1 at an assumed speed (not probed yet)</source>
        <translation>%1 按假定速度（尚未测速）</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="400"/>
        <source>1 answer at a time at %1 tokens</source>
        <translation>一次一个回答，%1 个词元</translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/planner_page.py" line="401"/>
        <source>%n answers at once at %1 tokens each</source>
        <translation>
            <numerusform>同时 %n 个回答，每个 %1 个词元</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="429"/>
        <source>%1 ms a token over the network</source>
        <translation>网络每个词元 %1 毫秒</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="431"/>
        <source>Predicted from: %1</source>
        <translation>预测依据：%1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="448"/>
        <source>%1 · shares the RAM</source>
        <translation>%1 · 与内存共享</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="449"/>
        <source>%1 · GPU memory</source>
        <translation>%1 · 显存</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="451"/>
        <source>CPU · RAM</source>
        <translation>CPU · 内存</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="454"/>
        <source>%1 (%2)</source>
        <translation>%1（%2）</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="458"/>
        <source>%1 would need %2 but has %3: over by %4</source>
        <translation>%1 需要 %2，但只有 %3：超出 %4</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="239"/>
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="241"/>
        <source>Loaded on %1</source>
        <translation>已加载到 %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="243"/>
        <source>Could not load: %1</source>
        <translation>无法加载：%1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="245"/>
        <source>Loading cancelled</source>
        <translation>已取消加载</translation>
    </message>
</context>
<context>
    <name>SettingsPage</name>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="45"/>
        <source>As the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="46"/>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="47"/>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="52"/>
        <source>Let paired devices use this device&apos;s compute</source>
        <translation>允许已配对设备使用本设备的算力</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="59"/>
        <source>half of this device&apos;s memory</source>
        <translation>本设备内存的一半</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="63"/>
        <source>each GPU&apos;s memory less headroom</source>
        <translation>每个 GPU 的显存减去预留空间</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="66"/>
        <source>all cores</source>
        <translation>所有核心</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="68"/>
        <source>When a device of the plan leaves, load the best plan over the devices left</source>
        <translation>方案中的设备离开时，自动用剩下的设备加载最佳方案</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="72"/>
        <source>Answer paired devices&apos; apps when their model is busy</source>
        <translation>配对设备的模型忙碌时，回答它们的应用</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="75"/>
        <source>With the model loaded here, when it is the file theirs is, and only into a place free at that moment: this window and this device&apos;s apps never wait behind them.</source>
        <translation>用此处加载的模型（与它们的是同一文件），且只占用当时空闲的位置：本窗口和本设备的应用永远不会排在它们后面。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="82"/>
        <source>With nothing loaded here, load the same model from this library for them</source>
        <translation>此处未加载模型时，为它们加载本库中的同一模型</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="86"/>
        <source>Only while nothing is loaded or loading here and nothing is lent to a paired device. The model takes this device&apos;s memory, and is unloaded again after 5 minutes without answers, unless this window&apos;s chat answers with it.</source>
        <translation>仅当此处没有已加载或正在加载的模型、也没有借给配对设备任何资源时。该模型占用本设备的内存，5 分钟内没有回答就会再次卸载，除非本窗口的聊天用它回答过。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="95"/>
        <source>Apply</source>
        <translation>应用</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="100"/>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="101"/>
        <source>Theme</source>
        <translation>主题</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="104"/>
        <source>Memory cap</source>
        <translation>内存上限</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="105"/>
        <source>GPU memory cap</source>
        <translation>GPU 显存上限</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="106"/>
        <source>Thread cap</source>
        <translation>线程上限</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="112"/>
        <source>Guess tokens ahead</source>
        <translation>提前猜测词元</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="114"/>
        <source>As many as memory allows</source>
        <translation>内存允许的最大数量</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="120"/>
        <source>How many answers the model gives together, to this window and other apps: each one holds a context of its own in memory. Applies from the next load.</source>
        <translation>模型同时为此窗口和其他应用给出多少个回答：每个回答在内存中占用自己的上下文。从下次加载起生效。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="125"/>
        <source>Answers at once</source>
        <translation>同时回答数</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="159"/>
        <source>Not isolated: other accounts on this computer can reach the workers it runs for paired devices (%1).</source>
        <translation>未隔离：此电脑上的其他帐户可以访问它为已配对设备运行的工作进程（%1）。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="179"/>
        <source>Saved.</source>
        <translation>已保存。</translation>
    </message>
</context>
<context>
    <name>Tray</name>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="40"/>
        <source>Donate compute</source>
        <translation>共享算力</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="41"/>
        <source>Open Hearth</source>
        <translation>打开 Hearth</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="42"/>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="62"/>
        <source>Not donating</source>
        <translation>未共享</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="63"/>
        <source>Donating: ready for paired devices</source>
        <translation>共享中：已为已配对设备就绪</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="64"/>
        <source>Donating: a paired device is using this one</source>
        <translation>共享中：已配对设备正在使用本设备</translation>
    </message>
</context>
<context>
    <name>Welcome</name>
    <message>
        <location filename="../app/hearth/ui/welcome.py" line="37"/>
        <source>Add another device</source>
        <translation>添加另一台设备</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/welcome.py" line="39"/>
        <source>Choose a model</source>
        <translation>选择模型</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/welcome.py" line="41"/>
        <source>Skip</source>
        <translation>跳过</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/welcome.py" line="42"/>
        <source>Hide this guide; it does not come back</source>
        <translation>隐藏本指引，之后不再显示</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/welcome.py" line="58"/>
        <source>Welcome to Hearth</source>
        <translation>欢迎使用 Hearth</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/welcome.py" line="65"/>
        <source>Paired with %1. Choose a model: Hearth plans it over the devices you have.</source>
        <translation>已与 %1 配对。请选择模型：Hearth 会把它规划到你的设备上。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/welcome.py" line="72"/>
        <source>Hearth runs AI models on the computers in your home and pools them when one is not enough. Nothing you type leaves your home. Start with this device alone, or add another one first: it needs Hearth running too.</source>
        <translation>Hearth 在你家里的电脑上运行 AI 模型，一台不够时就把几台合起来用。你输入的内容不会离开你的家。可以先只用这台设备，也可以先添加另一台：那台设备上也需要运行 Hearth。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/welcome.py" line="80"/>
        <source>Pick a model on the Catalog tab: those marked &quot;fits this device&quot; run here alone, the others need paired devices. Download it, then Plan and chat.</source>
        <translation>在“目录”标签页中选择一个模型：标有“本设备可运行”的模型可以只在这台设备上运行，其他模型需要已配对的设备。下载后点击“规划并聊天”。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/welcome.py" line="99"/>
        <source>This device: %1 · %2 free · %3</source>
        <translation>本设备：%1 · 可用 %2 · %3</translation>
    </message>
</context>
</TS>
